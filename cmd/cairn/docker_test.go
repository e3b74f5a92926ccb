package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The Dockerfile's build command, run here as written, makes a static
// binary (no dynamic loader, so it runs on the slim image), and the image
// runs it as the documented server.
func TestDockerfileBuildsStaticBinary(t *testing.T) {
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	m := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0) go build (.*) -o /out/cairn (\./cmd/cairn)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("no `RUN CGO_ENABLED=0 go build … -o /out/cairn ./cmd/cairn` line in the Dockerfile")
	}
	for _, want := range []string{"USER cairn", "VOLUME /var/lib/cairn", "EXPOSE 3306", "HEALTHCHECK",
		`ENTRYPOINT ["cairn", "sql-server", "--host", "0.0.0.0", "--data-dir", "/var/lib/cairn"]`} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	out := filepath.Join(t.TempDir(), "cairn")
	args := []string{"build"}
	for _, a := range regexp.MustCompile(`\S*"[^"]*"\S*|\S+`).FindAllString(m[2], -1) {
		args = append(args, strings.ReplaceAll(a, `"`, ""))
	}
	args = append(args, "-o", out, "../../"+strings.TrimPrefix(m[3], "./"))
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), m[1])
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %v: %v\n%s", args, err, b)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Fatalf("the binary is not static: it has a %v program header", p.Type)
		}
	}
	if b, err := exec.Command(out, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(b), "cairn version") {
		t.Fatalf("built binary: %v\n%s", err, b)
	}
}

// The first-start password comes from CAIRN_ROOT_PASSWORD, else from the
// file CAIRN_ROOT_PASSWORD_FILE names.
func TestPasswordFromEnv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(file, []byte("from-file\n"), 0o600)
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, ""},
		{map[string]string{"CAIRN_ROOT_PASSWORD": "direct", "CAIRN_ROOT_PASSWORD_FILE": file}, "direct"},
		{map[string]string{"CAIRN_ROOT_PASSWORD_FILE": file}, "from-file"},
	} {
		got, err := passwordFromEnv(func(k string) string { return c.env[k] })
		if err != nil || got != c.want {
			t.Errorf("%v: %q, %v; want %q", c.env, got, err, c.want)
		}
	}
	if _, err := passwordFromEnv(func(k string) string {
		return map[string]string{"CAIRN_ROOT_PASSWORD_FILE": "/nonexistent/pw"}[k]
	}); err == nil {
		t.Error("a missing password file was not an error")
	}
}
