package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"go.uber.org/zap"
)

// servePprof serves Go's profiles (CPU, heap, goroutines, …) on addr under
// /debug/pprof/ until stop is called. They show statement text in stacks
// only as function names, but anyone who reaches addr can read the
// process's state: keep it on a loopback address.
func servePprof(addr string, log *zap.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("server: pprof: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof server stopped", zap.Error(err))
		}
	}()
	log.Info("serving profiles", zap.String("address", "http://"+ln.Addr().String()+"/debug/pprof/"))
	return func() { srv.Close() }, nil
}
