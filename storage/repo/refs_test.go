package repo

import (
	"errors"
	"strings"
	"testing"

	"github.com/cairndb/cairn/storage/chunk"
)

func TestCheckBranchName(t *testing.T) {
	valid := []string{"main", "feature/x", "a.b", "v1.0", "user/ada/fix-1", "héllo", "a-b_c", "x@y", "Head2", "a/b/c.d", "__"}
	invalid := map[string]string{
		"":                        "empty",
		"HEAD":                    "HEAD",
		"head":                    "HEAD",
		"@":                       "'@'",
		"-x":                      "starts with '-'",
		"/x":                      "starts with '/'",
		"x/":                      "ends with '/'",
		"x.":                      "ends with '.'",
		"x.lock":                  "ends with '.lock'",
		"x.lock/y":                "component ends with '.lock'",
		"a..b":                    "'..'",
		"a//b":                    "'//'",
		"a@{1}":                   "'@{'",
		".hidden":                 "component starts with '.'",
		"a/.b":                    "component starts with '.'",
		"a b":                     "space",
		"a\tb":                    "control",
		"a\x7fb":                  "control",
		"a:b":                     "':'",
		"a?":                      "'?'",
		"a[0]":                    "'['",
		`a\b`:                     `'\\'`,
		"a^":                      "'^'",
		"a~1":                     "'~'",
		"a*":                      "'*'",
		"\xff":                    "UTF-8",
		strings.Repeat("x", 1001): "longer",
	}
	for _, name := range valid {
		t.Run("valid/"+name, func(t *testing.T) {
			if err := CheckBranchName(name); err != nil {
				t.Errorf("CheckBranchName(%q) = %v", name, err)
			}
			if err := CheckTagName(name); err != nil {
				t.Errorf("CheckTagName(%q) = %v", name, err)
			}
		})
	}
	for name, reason := range invalid {
		t.Run("invalid/"+name, func(t *testing.T) {
			err := CheckBranchName(name)
			if !errors.Is(err, ErrInvalidName) {
				t.Fatalf("CheckBranchName(%q) = %v, want ErrInvalidName", name, err)
			}
			if !strings.Contains(err.Error(), reason) {
				t.Errorf("CheckBranchName(%q) = %q, want the reason %q", name, err, reason)
			}
			if err := CheckTagName(name); !errors.Is(err, ErrInvalidName) {
				t.Errorf("CheckTagName(%q) = %v", name, err)
			}
		})
	}
	long := strings.Repeat("x", maxNameLen)
	if err := CheckBranchName(long); err != nil {
		t.Errorf("a %d-byte name: %v", maxNameLen, err)
	}
	if err := chunk.CheckRefName(WorkingSetRef(long)); err != nil {
		t.Errorf("the longest branch name makes a ref name too long: %v", err)
	}
	longRemote := strings.Repeat("r", maxRemoteNameLen)
	if err := CheckRemoteName(longRemote); err != nil {
		t.Errorf("a %d-byte remote name: %v", maxRemoteNameLen, err)
	}
	if err := CheckRemoteName(longRemote + "r"); !errors.Is(err, ErrInvalidName) {
		t.Errorf("a %d-byte remote name: %v, want ErrInvalidName", maxRemoteNameLen+1, err)
	}
	if err := chunk.CheckRefName(RemoteRef(longRemote, long)); err != nil {
		t.Errorf("the longest remote and branch names make a ref name too long: %v", err)
	}
}

func TestCheckRemoteName(t *testing.T) {
	for name, ok := range map[string]bool{"origin": true, "up-stream": true, "a/b": false, "": false, "a b": false} {
		if err := CheckRemoteName(name); (err == nil) != ok {
			t.Errorf("CheckRemoteName(%q) = %v", name, err)
		}
	}
}

func TestRefNames(t *testing.T) {
	for got, want := range map[string]string{
		BranchRef("main"):          "refs/heads/main",
		TagRef("v1"):               "refs/tags/v1",
		RemoteRef("origin", "a/b"): "refs/remotes/origin/a/b",
		WorkingSetRef("feature/x"): "refs/workingsets/heads/feature/x",
	} {
		if got != want {
			t.Errorf("%q, want %q", got, want)
		}
	}
}
