// Connects with node's tls module and prints the error the way node shows it (message + code), or OK.
const tls = require('tls');
const fs = require('fs');
const [host, port, ca, extra] = process.argv.slice(2);
const opts = { host: '127.0.0.1', port: Number(port), servername: host };
if (ca) opts.ca = fs.readFileSync(ca);
if (extra) Object.assign(opts, JSON.parse(extra));
const s = tls.connect(opts, () => { s.write('GET / HTTP/1.0\r\n\r\n'); });
s.setTimeout(3000, () => { console.log('TIMEOUT'); s.destroy(); });
s.on('data', () => { console.log('OK'); s.destroy(); });
s.on('error', (e) => { console.log(`Error: ${e.message} { code: '${e.code}' }`); });
