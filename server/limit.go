package server

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
)

// limitListener admits at most @@max_connections connections at once (read
// at each accept, so SET GLOBAL max_connections takes effect for new
// connections). A connection over the limit gets MySQL's error 1040 "Too
// many connections" as its first packet and is closed; the engine's own
// limit would close it without a word, which clients report as a lost
// connection.
type limitListener struct {
	net.Listener
	open atomic.Int64
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if n := l.open.Add(1); n > maxConnections() {
			l.open.Add(-1)
			refuse(c, mysql.ERConCount, "Too many connections")
			continue
		}
		return &countedConn{Conn: c, l: l}, nil
	}
}

// maxConnections is the global max_connections.
func maxConnections() int64 {
	_, v, ok := sql.SystemVariables.GetGlobal("max_connections")
	if !ok {
		return 1<<63 - 1
	}
	switch v := v.(type) {
	case int64:
		return v
	case uint64:
		return int64(v)
	case int:
		return int64(v)
	}
	return 1<<63 - 1
}

// refuse writes an error packet as the server's first packet (before the
// handshake, so without an SQLSTATE, as MySQL does) and closes c.
func refuse(c net.Conn, code uint16, msg string) {
	payload := make([]byte, 0, 3+len(msg))
	payload = append(payload, 0xff)
	payload = binary.LittleEndian.AppendUint16(payload, code)
	payload = append(payload, msg...)
	packet := make([]byte, 4, 4+len(payload))
	packet[0], packet[1], packet[2] = byte(len(payload)), byte(len(payload)>>8), byte(len(payload)>>16)
	packet[3] = 0 // sequence
	packet = append(packet, payload...)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Write(packet)
	c.Close()
}

// countedConn gives its slot back when closed.
type countedConn struct {
	net.Conn
	l    *limitListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
