package testdb

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
)

// Proxy is a TCP proxy in front of PostgreSQL that a test can cut and
// restore, to see how the service behaves while the database is unreachable.
//
// Cut is a refused network: connections are closed, new ones refused.
// Blackhole is a silent one: connections stay open, new ones are accepted,
// and no byte gets through either way, so a client waits as it would on a
// partitioned network (only its own timeouts free it). HangUpServer then
// closes the server's side of every connection, as the server does when its
// keepalives find the client gone (its session and advisory locks end),
// while the client's side stays silent.
type Proxy struct {
	t      testing.TB
	target string
	addr   string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	ups    map[net.Conn]bool // the server's side of each piped connection
	black  bool
}

// NewProxy starts a proxy to the database in dbURL and returns it with the
// URL that goes through it.
func NewProxy(t testing.TB, dbURL string) (*Proxy, string) {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, target: u.Host, conns: map[net.Conn]bool{}, ups: map[net.Conn]bool{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	u.Host = p.addr
	return p, u.String()
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *Proxy) pipe(c net.Conn) {
	p.mu.Lock()
	black := p.black
	p.conns[c] = true
	p.mu.Unlock()
	if black { // accepted, never answered
		p.drain(c)
		return
	}
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[up], p.ups[up] = true, true
	p.mu.Unlock()
	go func() { p.copy(up, c); up.Close() }()
	p.copy(c, up)
	p.mu.Lock()
	black = p.black
	p.mu.Unlock()
	if black { // HangUpServer: the client's side stays silent
		p.drain(c)
		return
	}
	c.Close()
}

// copy forwards src to dst, dropping what arrives while blackholed.
func (p *Proxy) copy(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			black := p.black
			p.mu.Unlock()
			if !black {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) drain(c net.Conn) {
	_, _ = io.Copy(io.Discard, c)
	c.Close()
}

// Cut closes the listener and every open connection: the database is gone.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.black = false
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.closeAll()
}

func (p *Proxy) closeAll() {
	for c := range p.conns {
		c.Close()
	}
	p.conns = map[net.Conn]bool{}
	p.ups = map[net.Conn]bool{}
}

// Blackhole makes the network silent: nothing gets through, nothing is
// refused or closed.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.black = true
}

// HangUpServer closes the server's side of every connection (the server
// gives up on a silent client); clients see nothing while blackholed.
func (p *Proxy) HangUpServer() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for up := range p.ups {
		up.Close()
		delete(p.conns, up)
	}
	p.ups = map[net.Conn]bool{}
}

// Heal ends a blackhole: the connections that lived through it are closed
// (bytes were lost on them) and new ones go through again.
func (p *Proxy) Heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.black = false
	p.closeAll()
}

// Restore listens again on the same address.
func (p *Proxy) Restore() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy restore: %v", err)
	}
	p.serve(ln)
}
