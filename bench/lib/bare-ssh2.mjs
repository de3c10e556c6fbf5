// The baseline lifeboat is measured against: a bare ssh2 client, one connection per host,
// setNoDelay(true) on the socket, commands run one after another per host (hosts in parallel).
// usage: node bench/lib/bare-ssh2.mjs CONFIG.json  ({hosts, port, ports?, user, key, steps, cmd}; ports[i]: host i's)
import { readFileSync } from 'node:fs';
import net from 'node:net';
import ssh2 from 'ssh2';

const arg = process.argv[2];
const cfg = JSON.parse(arg.startsWith('{') ? arg : readFileSync(arg, 'utf8'));
const privateKey = readFileSync(cfg.key);

function connect(host, port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.setNoDelay(true);
    const c = new ssh2.Client();
    const fail = (e) => reject(new Error(`${host}:${port}: ${e.message}`));
    c.once('ready', () => resolve(c)).once('error', fail);
    sock.once('error', fail);
    // the same handshake limit as lifeboat's inventory (connect_timeout: 300s: one sshd on the same two
    // cores serves all 500 hosts of the largest fan-out, and a handshake can wait its turn for a minute)
    sock.once('connect', () => c.connect({ sock, username: cfg.user, privateKey, readyTimeout: 300_000 }));
  });
}

// cfg.wrap: send the command the way lifeboat does (fixed bootstrap + script on stdin), to
// tell the remote wrapper's cost from the client's
const shell = cfg.wrap ? await import(new URL('../../dist/src/transport/shell.js', import.meta.url).href) : undefined;

function exec(c, cmd) {
  return new Promise((resolve, reject) => {
    c.exec(shell ? (cfg.bootstrap ?? shell.bootstrapCommand()) : cmd, (err, ch) => {
      if (shell && !err) ch.end(shell.buildScript(cmd));
      if (err) return reject(err);
      let out = '';
      ch.on('data', (d) => {
        out += d;
      }).stderr.resume();
      ch.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd}: exit ${code}`))));
    });
  });
}

await Promise.all(
  cfg.hosts.map(async (h, i) => {
    const c = await connect(h, cfg.ports?.[i] ?? cfg.port);
    // an error after the handshake (a reset connection) fails the run with the host's name,
    // instead of an uncaught 'error' event
    const gone = new Promise((_, reject) => c.on('error', (e) => reject(new Error(`${h}: ${e.message}`))));
    gone.catch(() => {});
    for (let n = 0; n < cfg.steps; n++) await Promise.race([exec(c, cfg.cmd), gone]);
    c.end();
  }),
).catch((e) => {
  process.stderr.write(`bare-ssh2: ${e.message}\n`);
  process.exit(1);
});
