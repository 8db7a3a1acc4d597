package replica

import (
	"net"
	"strconv"
)

func hostPort(host string, port int32) string {
	return net.JoinHostPort(host, strconv.Itoa(int(port)))
}
