// tlsdoctor check: one tls.connect handshake, then close. Argument: a JSON object (see
// src/live/clients.rs). Prints one JSON line: {"ok": true, "version": ...} or
// {"ok": false, "error": "CODE: message"}.
const tls = require('tls');
const net = require('net');
const fs = require('fs');
const c = JSON.parse(process.argv[1]);
const o = { host: '127.0.0.1', port: c.port };
const ip = net.isIP(c.host) !== 0;
if (c.sni && !ip) o.servername = c.host;
// The certificate is checked against the name the application uses, not the relay's.
o.checkServerIdentity = (_, cert) => tls.checkServerIdentity(c.host, cert);
if (c.cafile) o.ca = fs.readFileSync(c.cafile);
if (c.cert) { o.cert = fs.readFileSync(c.cert); o.key = fs.readFileSync(c.key); }
let done = false;
let s;
const finish = (r) => {
  if (done) return;
  done = true;
  console.log(JSON.stringify(r));
  s.destroy();
};
try {
  s = tls.connect(o, () => {
    // Listen a moment: a TLS 1.3 server's refusal can follow the client's Finished.
    setTimeout(() => finish({ ok: true, version: s.getProtocol() }), c.settle_ms);
  });
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: (e.code ? e.code + ': ' : '') + e.message }));
  process.exit(0);
}
s.on('error', (e) => finish({ ok: false, error: (e.code ? e.code + ': ' : '') + e.message }));
s.on('close', () => finish({ ok: false, error: 'the connection closed during the handshake' }));
s.setTimeout(c.timeout * 1000, () => finish({ ok: false, error: 'timed out' }));
