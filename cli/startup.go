package cli

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
)

// heldWriter holds what is written to it until release, then writes it
// through and passes later writes straight on. serve logs through one so that
// the start-up block comes first on stderr and the logs follow it.
type heldWriter struct {
	mu       sync.Mutex
	w        io.Writer
	held     bytes.Buffer
	released bool
}

func (h *heldWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return h.w.Write(p)
	}
	return h.held.Write(p)
}

// release writes first (when not nil) and then what was held, and lets later
// writes through.
func (h *heldWriter) release(first func(io.Writer)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.released {
		return
	}
	if first != nil {
		first(h.w)
	}
	_, _ = h.w.Write(h.held.Bytes())
	h.held.Reset()
	h.released = true
}

// startInfo is what the start-up block needs to know.
type startInfo struct {
	Addr       string // host:port the server listens on
	Sandbox    bool
	Demo       bool   // the demo county is loaded (sandbox.demo)
	FakeURL    string // the embedded fake Bot API (sandbox only)
	Bot        string // the bot's username
	ConfigFlag string // " --config PATH" when serve was given one, else ""
}

// browseURL is a URL a browser on this machine can open for a listen
// address: an unspecified host (0.0.0.0, ::) becomes 127.0.0.1.
func browseURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// tokenCommand is the command that prints a dashboard login token; the
// dashboard's login page suggests the same one.
func tokenCommand(configFlag, unit string) string {
	return "./bin/zhibu token create" + configFlag + " --unit " + unit + " --role admin"
}

// writeStartBlock prints what to do next once serve is up, for the person
// who just typed `make run`.
func writeStartBlock(w io.Writer, si startInfo) {
	base := browseURL(si.Addr)
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	line("")
	line("%s", sbx.T("start.head"))
	if si.Sandbox {
		demo := sbx.T("start.no_demo")
		if si.Demo {
			demo = sbx.T("start.demo")
		}
		line("%s", sbx.T("start.sandbox", "url", si.FakeURL, "demo", demo))
		line("%s", sbx.T("start.sandbox_chat", "base", base))
	} else {
		line("%s", sbx.T("start.bot", "bot", si.Bot))
	}
	line("%s", sbx.T("start.dashboard", "base", base))
	line("%s", sbx.T("start.token"))
	if si.Demo {
		line("            %s", tokenCommand(si.ConfigFlag, "QA"))
	} else {
		line("            %s", tokenCommand(si.ConfigFlag, sbx.T("start.unit_code")))
	}
	line("%s", sbx.T("start.token_paste", "base", base))
	line("%s", sbx.T("start.try"))
	if si.Sandbox {
		line("%s", sbx.T("start.try_sandbox"))
	} else {
		line("%s", sbx.T("start.try_bot", "bot", si.Bot))
	}
	line("%s", sbx.T("start.log"))
	line("──────────────────────────────")
	_, _ = io.WriteString(w, b.String())
}
