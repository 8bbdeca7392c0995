// tlsdoctor check: one crypto/tls handshake, then close. Argument: a JSON object (see
// src/live/clients.rs). Prints one JSON line: {"ok": true, "version": ...} or
// {"ok": false, "error": ...}, the error as Go prints it (err.Error()).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

type config struct {
	Host     string  `json:"host"`
	Port     int     `json:"port"`
	Sni      bool    `json:"sni"`
	Cafile   *string `json:"cafile"`
	Cert     *string `json:"cert"`
	Key      *string `json:"key"`
	Timeout  float64 `json:"timeout"`
	SettleMs int     `json:"settle_ms"`
}

func emit(v map[string]interface{}) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func fail(err error) {
	emit(map[string]interface{}{"ok": false, "error": err.Error()})
}

var versions = map[uint16]string{
	tls.VersionTLS10: "TLSv1", tls.VersionTLS11: "TLSv1.1",
	tls.VersionTLS12: "TLSv1.2", tls.VersionTLS13: "TLSv1.3",
}

func main() {
	var c config
	if err := json.Unmarshal([]byte(os.Args[1]), &c); err != nil {
		fail(err)
		return
	}
	cfg := &tls.Config{ServerName: c.Host}
	if c.Cafile != nil && *c.Cafile != "" {
		pem, err := os.ReadFile(*c.Cafile)
		if err != nil {
			fail(err)
			return
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		cfg.RootCAs = pool
	}
	if c.Cert != nil && c.Key != nil {
		pair, err := tls.LoadX509KeyPair(*c.Cert, *c.Key)
		if err != nil {
			fail(err)
			return
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if !c.Sni {
		// Go sends the name it verifies; to send none and still check the certificate
		// against the host name, verify here as Go itself would.
		roots := cfg.RootCAs
		host := c.Host
		cfg.ServerName = ""
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			opts := x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: x509.NewCertPool()}
			for _, ic := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(ic)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		}
	}
	timeout := time.Duration(c.Timeout * float64(time.Second))
	raw, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", c.Port), timeout)
	if err != nil {
		fail(err)
		return
	}
	conn := tls.Client(raw, cfg)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if err := conn.Handshake(); err != nil {
		fail(err)
		return
	}
	version := versions[conn.ConnectionState().Version]
	// Listen a moment: a TLS 1.3 server's refusal can follow the client's Finished.
	conn.SetReadDeadline(time.Now().Add(time.Duration(c.SettleMs) * time.Millisecond))
	buf := make([]byte, 1)
	_, err = conn.Read(buf)
	var ne net.Error
	if err != nil && !errors.Is(err, io.EOF) && !(errors.As(err, &ne) && ne.Timeout()) {
		fail(err)
		return
	}
	emit(map[string]interface{}{"ok": true, "version": version})
}
