package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	cmd := newCmd("version", "print the version")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		_, err := fmt.Fprintln(cmd.OutOrStdout(), "cairn version", Version)
		return err
	}
	return cmd
}
