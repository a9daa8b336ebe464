package realtime

import (
	"net"
	"time"

	"golang.org/x/sys/unix"
)

// setUserTimeout sets TCP_USER_TIMEOUT on nc: the kernel closes the
// connection when data it sent stays unacknowledged for d. Without it a
// peer that vanished (a half-open connection) holds its socket until TCP
// gives up retransmitting, about 15 minutes by default — the only way an
// SSE stream, whose client never answers, notices it sooner.
func setUserTimeout(nc net.Conn, d time.Duration) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT, int(d.Milliseconds()))
	})
}
