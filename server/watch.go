package server

import (
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/netutil"
	"go.uber.org/zap"
)

// A statement whose client has gone away is cancelled. go-mysql-server
// watches for that itself, but at the start of every statement that returns
// rows it duplicates the socket's descriptor and reads its inode (a fifth of
// the server's CPU for prepared point selects), and it skips connections that
// are not a bare *net.TCPConn. The server wraps every connection
// (watchedConn), which turns that watch off, and watches only statements
// still running after watchAfter, peeking at their socket every watchEvery.

const (
	watchAfter = time.Second
	watchEvery = time.Second
)

// watchListener wraps the connections it accepts in watchedConn.
type watchListener struct{ net.Listener }

func (l watchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &watchedConn{Conn: c}, nil
}

// watchedConn is a connection whose statements the server watches itself.
type watchedConn struct{ net.Conn }

// watchStatement starts watching the statement c begins running; the
// returned function ends the watch.
func (cs *conns) watchStatement(c *mysql.Conn) func() {
	if cs.kill == nil {
		return func() {}
	}
	done := make(chan struct{})
	t := time.AfterFunc(watchAfter, func() {
		for {
			if closedByPeer(c.Conn) {
				select {
				case <-done:
				default:
					cs.log.Info("client gone: cancelling its statement", zap.Uint32("conn", c.ConnectionID),
						zap.String("remote", remote(c)))
					cs.kill(c.ConnectionID)
				}
				return
			}
			select {
			case <-done:
				return
			case <-time.After(watchEvery):
			}
		}
	})
	return func() {
		t.Stop()
		close(done)
	}
}

// closedByPeer reports whether the other end has closed c: a peek at its
// socket, which takes nothing from it, reads end-of-file or a reset.
func closedByPeer(c net.Conn) bool {
	for {
		switch x := c.(type) {
		case *watchedConn:
			c = x.Conn
			continue
		case *countedConn:
			c = x.Conn
			continue
		case netutil.ConnWithTimeouts:
			c = x.Conn
			continue
		case *netutil.ConnWithTimeouts:
			c = x.Conn
			continue
		case *tls.Conn:
			c = x.NetConn()
			continue
		}
		break
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	raw.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		closed = err == nil && n == 0 || errors.Is(err, syscall.ECONNRESET)
		return true // never wait for data
	})
	return closed
}
