package procedures

import (
	"strings"
	"testing"
)

// Procedure arguments come from any client: parsing them must give a
// result or an error, never a panic.
func FuzzProcedureArgs(f *testing.F) {
	for _, s := range []string{"-m\x00msg", "-am\x00x", "--author=A <a@b>", "--prune-with-grace-period\x001h", "-", "--", "---x", "-b", "--force\x00restore\x00file:///x\x00db"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		for _, sp := range []argSpec{commitArgs, branchArgs, checkoutArgs, pushArgs, mergeArgs, cloneArgs, tagArgs} {
			sp.parse(args)
		}
		parseBackupArgs(args)
		for _, a := range args {
			CheckBackupName(a)
		}
	})
}
