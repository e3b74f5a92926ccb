package integration_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// --pprof serves Go's profiles on its own address.
func TestServerPprof(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	startServer(t, t.TempDir(), "--pprof", addr)
	resp, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(body), "goroutine profile") {
		t.Fatalf("pprof: %s\n%.200s", resp.Status, body)
	}
}
