//go:build !linux

package realtime

import (
	"net"
	"time"
)

// setUserTimeout does nothing where TCP_USER_TIMEOUT does not exist: the
// heartbeat and write deadlines still end a WebSocket to a vanished peer.
func setUserTimeout(net.Conn, time.Duration) {}
