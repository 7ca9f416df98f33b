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
	line("──────── zhibu 已启动 ────────")
	if si.Sandbox {
		demo := "没有载入演示数据（sandbox.demo 为 false）"
		if si.Demo {
			demo = "已载入演示县“乾安县”（单位编码 QA）"
		}
		line("离线沙盒模式（telegram.mode: sandbox）：机器人连的是内置的模拟 Telegram（%s），%s。", si.FakeURL, demo)
		line("  沙盒对话：%s/sandbox", base)
	} else {
		line("机器人：@%s", si.Bot)
	}
	line("  看板：    %s/", base)
	line("  登录令牌：在仓库目录另开一个终端执行")
	if si.Demo {
		line("            %s", tokenCommand(si.ConfigFlag, "QA"))
	} else {
		line("            %s", tokenCommand(si.ConfigFlag, "<单位编码>"))
	}
	line("            把输出的令牌（zb_ 开头）粘贴到 %s/login", base)
	line("可以试试：")
	if si.Sandbox {
		line("  1. 打开沙盒对话（默认身份是支部书记），点页面上的建议“补上个月的支委会打卡”")
		line("  2. 打开看板：这个支部会由红灯变成绿灯")
	} else {
		line("  1. 在 Telegram 里给 @%s 发送 /help", si.Bot)
		line("  2. 打开看板，查看各支部的红绿灯")
	}
	line("以下是运行日志（Ctrl+C 停止）。")
	line("──────────────────────────────")
	_, _ = io.WriteString(w, b.String())
}
