package api

import (
	"time"

	"github.com/convox/stdapi"
	"github.com/gorilla/websocket"
)

// closeCodeBase plus an HTTP status is the close code of a failed stream; it
// matches sdk.CloseCodeBase (kept apart so api does not import sdk).
const closeCodeBase = 4000

// socketError reports err the stdapi way, an "ERROR: " text message, then
// closes with code closeCodeBase+status so new clients get the status too.
func socketError(c *stdapi.Context, err error) {
	ws := c.Websocket()
	msg := err.Error()
	_ = ws.WriteMessage(websocket.TextMessage, []byte("ERROR: "+msg+"\n"))
	reason := msg
	if len(reason) > 120 { // a close frame reason is at most 123 bytes
		reason = reason[:120]
	}
	code := closeCodeBase + statusOf(err)
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.Logf("code=%d error=%q", statusOf(err), msg)
}

// watchClient reads and drops what the client sends; the channel closes
// when the client is gone (or the socket closed).
func watchClient(ws *websocket.Conn) <-chan struct{} {
	gone := make(chan struct{})
	go func() {
		defer close(gone)
		for {
			if _, _, err := ws.NextReader(); err != nil {
				return
			}
		}
	}()
	return gone
}

// closeSocket gives the client a moment to close first, so it reads every
// frame sent, then closes the connection.
func closeSocket(ws *websocket.Conn, gone <-chan struct{}) {
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
	}
	ws.Close()
}
