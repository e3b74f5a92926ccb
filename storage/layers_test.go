package storage_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// The storage layers import only downwards (chunk ← tree ← repo ← dbdir) and
// none of them imports the SQL engine: only storage/sqle does.
func TestLayers(t *testing.T) {
	const mod = "github.com/cairndb/cairn/"
	forbidden := map[string][]string{
		"storage/chunk":           {"storage/chunk/diskstore", "storage/tree", "storage/repo", "storage/sqle"},
		"storage/chunk/diskstore": {"storage/tree", "storage/repo", "storage/sqle"},
		"storage/tree":            {"storage/repo", "storage/sqle"},
		"storage/repo":            {"storage/tree", "storage/sqle", "storage/dbdir"},
		"storage/dbdir":           {"storage/tree", "storage/sqle"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-json=Deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		var info struct{ Deps []string }
		if err := json.Unmarshal(out, &info); err != nil {
			t.Fatal(err)
		}
		for _, dep := range info.Deps {
			if strings.Contains(dep, "go-mysql-server") || strings.Contains(dep, "dolthub/vitess") {
				t.Errorf("%s depends on the SQL engine through %s", pkg, dep)
			}
			for _, b := range bad {
				if dep == mod+b {
					t.Errorf("%s imports %s, which is not below it", pkg, b)
				}
			}
		}
	}
}
