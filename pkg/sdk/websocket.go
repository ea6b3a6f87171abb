package sdk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/convox/stdsdk"
	"github.com/gorilla/websocket"
)

// CloseCodeBase is added to an HTTP status to form the websocket close code
// with which the rack reports a failed stream (4404: not found).
const CloseCodeBase = 4000

// websocket opens a stream the rack sends as text messages, ended by an
// empty binary message (the stdapi convention) or a close frame.
func (c *Client) websocket(path string, ro stdsdk.RequestOptions) (io.ReadCloser, error) {
	qs, err := ro.Querystring()
	if err != nil {
		return nil, fmt.Errorf("websocket %s: %w", path, err)
	}
	scheme := "wss"
	if c.endpoint.Scheme == "http" {
		scheme = "ws"
	}
	target := fmt.Sprintf("%s://%s%s%s?%s", scheme, c.endpoint.Host, c.endpoint.Path, path, qs)
	h := c.headers()
	h.Set("Origin", fmt.Sprintf("%s://%s", c.endpoint.Scheme, c.endpoint.Host))
	d := websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		TLSClientConfig:  insecureTLS,
		HandshakeTimeout: 30 * time.Second,
	}
	conn, res, err := d.DialContext(c.ctx, target, h)
	if err != nil {
		if res != nil {
			defer res.Body.Close()
			data, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
			msg := strings.TrimSpace(string(data))
			if msg == "" {
				msg = res.Status
			}
			return nil, &Error{Status: res.StatusCode, Message: msg}
		}
		return nil, fmt.Errorf("websocket %s: %w", path, err)
	}
	return &wsReader{conn: conn}, nil
}

// wsReader turns the message stream into bytes. A close frame with a code
// from CloseCodeBase up becomes an *Error with that status.
type wsReader struct {
	conn    *websocket.Conn
	cur     io.Reader
	pending [][]byte
	err     error
	closed  sync.Once
}

func (w *wsReader) Read(p []byte) (int, error) {
	for {
		switch {
		case w.cur != nil:
			n, err := w.cur.Read(p)
			if err == io.EOF {
				w.cur, err = nil, nil
			}
			if n > 0 || err != nil {
				return n, err
			}
		case len(w.pending) > 0:
			w.cur = bytes.NewReader(w.pending[0])
			w.pending = w.pending[1:]
		case w.err != nil:
			return 0, w.err
		default:
			w.next()
		}
	}
}

// next reads messages into pending until one is plain text or the stream ends.
func (w *wsReader) next() {
	typ, data, err := w.conn.ReadMessage()
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && ce.Code >= CloseCodeBase && ce.Code < CloseCodeBase+600:
		w.pending = nil // only "ERROR: " lines are pending here: the close frame carries the message
		w.err = &Error{Status: ce.Code - CloseCodeBase, Message: ce.Text}
	case errors.As(err, &ce) && (ce.Code == websocket.CloseNormalClosure || ce.Code == websocket.CloseGoingAway):
		w.err = io.EOF
	case err != nil:
		w.err = fmt.Errorf("log stream: %w", err)
	case typ == websocket.BinaryMessage:
		w.err = io.EOF
	case bytes.HasPrefix(data, []byte("ERROR: ")):
		// An error line followed by an error close code is an error, else it is text.
		w.pending = append(w.pending, data)
		w.next()
	default:
		w.pending = append(w.pending, data)
	}
}

// Close ends the stream.
func (w *wsReader) Close() error {
	var err error
	w.closed.Do(func() {
		_ = w.conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		err = w.conn.Close()
	})
	return err
}
