// The kit's service client over TLS (an https: peer URL), against real node:https servers whose
// certificates openssl makes at test time in a temporary directory (no key in the repository).
// Deployments trust a private CA through NODE_EXTRA_CA_CERTS, which Node reads only at start, so
// the calls are made by a child process started with it (fixtures/service-client-calls.ts).
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import type { TLSSocket } from "node:tls";
import { promisify } from "node:util";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";
import { loadConfig } from "../../services/kit/config";
import { createServiceClient } from "../../services/kit/service-client";
import { DependencyUnavailableError } from "../../services/kit/unavailable";
import { freePort } from "../support/free-port";
import type { CallOutcome, FailedCall, PlannedCall } from "./fixtures/service-client-calls";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../..");

// Sections for openssl: a CA, and peer certificates valid for 127.0.0.1 and localhost, or for another name only.
const OPENSSL_CONFIG = `
[req]
distinguished_name = subject
[subject]
[authority]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[peer]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[elsewhere]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:elsewhere.invalid
`;

/** Makes certificates with the openssl command in `dir`; each made by `authority` or `peer` is named by its file stem. */
function certificateMaker(dir: string) {
  const file = (name: string) => path.join(dir, name);
  // P-256 keys: made in milliseconds, where RSA keys would take a noticeable part of the test.
  const newKey = (stem: string) => ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", file(`${stem}.key`)];
  const openssl = async (args: string[]) => {
    try {
      await run("openssl", args, { cwd: dir });
    } catch (error) {
      const { code, stderr } = error as { code?: unknown; stderr?: string };
      if (code === "ENOENT") throw new Error("the openssl command is needed to make this test's certificates: install it (scripts/install-test-deps.sh does)");
      throw new Error(`openssl ${args[0]} failed: ${stderr ?? String(error)}`);
    }
  };
  let serial = 1;
  return {
    config: () => writeFile(file("openssl.cnf"), OPENSSL_CONFIG),
    /** A self-signed CA certificate. */
    authority: (stem: string) =>
      openssl(["req", "-x509", "-new", ...newKey(stem), "-subj", `/CN=${stem}`, "-days", "2", "-config", file("openssl.cnf"), "-extensions", "authority", "-out", file(`${stem}.crt`)]),
    /** A server certificate signed by the CA `authority`, with the extensions of `section`. */
    peer: async (stem: string, authority: string, section: "peer" | "elsewhere") => {
      await openssl(["req", "-new", ...newKey(stem), "-subj", `/CN=${stem}`, "-config", file("openssl.cnf"), "-out", file(`${stem}.csr`)]);
      const signer = ["-CA", file(`${authority}.crt`), "-CAkey", file(`${authority}.key`), "-set_serial", String(serial++)];
      await openssl(["x509", "-req", "-in", file(`${stem}.csr`), ...signer, "-days", "2", "-extfile", file("openssl.cnf"), "-extensions", section, "-out", file(`${stem}.crt`)]);
    },
    read: async (stem: string) => ({ key: await readFile(file(`${stem}.key`)), cert: await readFile(file(`${stem}.crt`)) }),
    path: (stem: string) => file(`${stem}.crt`),
  };
}

interface SeenRequest {
  readonly connection: number;
  readonly method?: string;
  readonly url?: string;
  readonly hash?: string | string[];
  readonly id?: string | string[];
  readonly auth?: string;
  readonly body: string;
}

/** A peer that records every request (and on which of its connections it came) and answers as `answer` says. */
interface Peer {
  readonly url: string;
  readonly requests: SeenRequest[];
  /** One per TLS connection set up: the SNI name the client sent (false: none) and the protocol ALPN chose. */
  readonly connections: { servername: string | false | null; alpn: string | false | null }[];
  close(): Promise<void>;
}

// A JSON answer bigger than several TLS records (16 KiB each), multi-byte characters included.
const LARGE = { items: Array.from({ length: 3000 }, (_, i) => ({ i, text: `entry ${i}: naïve ✓` })) };

function answer(req: IncomingMessage, body: string, res: ServerResponse): void {
  if (req.url === "/chunked") {
    const text = JSON.stringify(LARGE);
    const parts = Array.from({ length: 8 }, (_, i) => text.slice((i * text.length) / 8, ((i + 1) * text.length) / 8));
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    const next = () => {
      const part = parts.shift();
      if (part === undefined) res.end();
      else res.write(part, () => setImmediate(next));
    };
    next();
    return;
  }
  res.writeHead(201, { "Content-Type": "application/json" }).end(JSON.stringify({ received: body ? JSON.parse(body) : null }));
}

async function startPeer(tls: { key: Buffer; cert: Buffer } | undefined): Promise<Peer> {
  const requests: SeenRequest[] = [];
  const connections: Peer["connections"] = [];
  const numbers = new WeakMap<object, number>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const h = req.headers;
      requests.push({ connection: numbers.get(req.socket) ?? -1, method: req.method, url: req.url, hash: h["x-constitutional-hash"], id: h["x-request-id"], auth: h.authorization, body });
      answer(req, body, res);
    });
  };
  let server: HttpsServer | HttpServer;
  if (tls) {
    server = createHttpsServer({ ...tls, ALPNProtocols: ["http/1.1"] }, handle);
    server.on("secureConnection", (socket: TLSSocket) => {
      numbers.set(socket, connections.length);
      connections.push({ servername: socket.servername, alpn: socket.alpnProtocol });
    });
    // A client refusing the certificate aborts the handshake: expected here, not a test failure.
    server.on("tlsClientError", () => {});
  } else {
    server = createHttpServer(handle);
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    requests,
    connections,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Runs the fixture in a child process that trusts `caFile` (and nothing made lax), and returns each call's outcome. */
async function callsFromTrustingProcess(caFile: string, plan: PlannedCall[]): Promise<CallOutcome[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_EXTRA_CA_CERTS: caFile };
  delete env.NODE_TLS_REJECT_UNAUTHORIZED;
  const fixture = path.join(__dirname, "fixtures/service-client-calls.ts");
  const { stdout } = await run(path.join(ROOT, "node_modules/.bin/tsx"), [fixture, JSON.stringify(plan)], { cwd: ROOT, env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(stdout) as CallOutcome[];
}

/** The failure of a call, or a test failure naming what the call gave instead. */
function failureOf(outcome: CallOutcome): FailedCall & { ms: number } {
  if (!("error" in outcome)) throw new Error(`the call succeeded (${outcome.status}) where it had to fail: ${JSON.stringify(outcome).slice(0, 200)}`);
  return { ...outcome.error, ms: outcome.ms };
}

// Far above a refused handshake's few milliseconds: a failure must come from TLS, not from this timeout.
const FAILURE_TIMEOUT_MS = 10_000;

describe("service client over TLS", () => {
  let dir: string;
  let trusted: Peer; // certificate from the CA the child process trusts, for 127.0.0.1 and localhost
  let misnamed: Peer; // same CA, but the certificate names another host only
  let stranger: Peer; // right names, but signed by a CA nobody trusts
  let plain: Peer; // speaks plain HTTP where the URL says https
  let refusedUrl: string; // nothing listens: a down peer, for the error's shape
  let outcomes: CallOutcome[];

  const post = (url: string, id: string, n: number): PlannedCall => ({ url, path: "/api/v1/entries", body: { n }, requestId: id, authorization: "Bearer secret", timeoutMs: FAILURE_TIMEOUT_MS });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "acgs-tls-"));
    const make = certificateMaker(dir);
    await make.config();
    await Promise.all([make.authority("test-ca"), make.authority("stranger-ca")]);
    await Promise.all([make.peer("trusted", "test-ca", "peer"), make.peer("misnamed", "test-ca", "elsewhere"), make.peer("stranger", "stranger-ca", "peer")]);
    [trusted, misnamed, stranger, plain] = await Promise.all([
      startPeer(await make.read("trusted")),
      startPeer(await make.read("misnamed")),
      startPeer(await make.read("stranger")),
      startPeer(undefined),
    ]);
    refusedUrl = `https://127.0.0.1:${await freePort()}`;
    const byName = trusted.url.replace("127.0.0.1", "localhost");
    outcomes = await callsFromTrustingProcess(make.path("test-ca"), [
      post(trusted.url, "req-0", 0),
      post(trusted.url, "req-1", 1),
      post(trusted.url, "req-2", 2),
      { url: trusted.url, path: "/chunked" },
      post(trusted.url, "req-3", 3),
      post(byName, "by-name", 4),
      post(misnamed.url, "to-misnamed", 5),
      post(stranger.url, "to-stranger", 6),
      post(plain.url, "to-plain", 7),
      post(refusedUrl, "to-nobody", 8),
    ]);
  }, 40_000);

  afterAll(async () => {
    await Promise.all([trusted, misnamed, stranger, plain].map((peer) => peer?.close()));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("calls a trusted peer over https, with the hash, the request id and the token, all over one kept-alive TLS connection", () => {
    expect(outcomes.slice(0, 3)).toEqual([0, 1, 2].map((n) => ({ status: 201, body: { received: { n } }, ms: expect.any(Number) })));
    expect(outcomes[4]).toEqual({ status: 201, body: { received: { n: 3 } }, ms: expect.any(Number) });
    const sent = (id: string, n: number) => ({ connection: 0, method: "POST", url: "/api/v1/entries", hash: CONSTITUTIONAL_HASH, id, auth: "Bearer secret", body: JSON.stringify({ n }) });
    const chunked = { connection: 0, method: "GET", url: "/chunked", hash: CONSTITUTIONAL_HASH, body: "" };
    expect(trusted.requests.filter((r) => r.connection === 0)).toEqual([sent("req-0", 0), sent("req-1", 1), sent("req-2", 2), chunked, sent("req-3", 3)]);
    // Five calls, one handshake; the client offered http/1.1 by ALPN and sent no SNI for an IP address.
    expect(trusted.connections[0]).toEqual({ servername: false, alpn: "http/1.1" });
  });

  it("reads a chunked answer spanning many TLS records, and keeps the connection after it", () => {
    expect(outcomes[3]).toEqual({ status: 200, body: LARGE, ms: expect.any(Number) });
    expect(Buffer.byteLength(JSON.stringify(LARGE))).toBeGreaterThan(4 * 16 * 1024);
    expect(trusted.requests.map((r) => r.url)).toEqual(["/api/v1/entries", "/api/v1/entries", "/api/v1/entries", "/chunked", "/api/v1/entries", "/api/v1/entries"]);
    expect(trusted.requests[4].connection).toBe(0);
  });

  it("calls a peer named by host name with that name as SNI, its certificate checked against the name", () => {
    expect(outcomes[5]).toEqual({ status: 201, body: { received: { n: 4 } }, ms: expect.any(Number) });
    expect(trusted.requests[5]).toMatchObject({ connection: 1, id: "by-name", hash: CONSTITUTIONAL_HASH });
    expect(trusted.connections).toEqual([
      { servername: false, alpn: "http/1.1" },
      { servername: "localhost", alpn: "http/1.1" },
    ]);
  });

  it("fails a call to a peer whose certificate names another host, or comes from an untrusted CA, as that peer being unavailable, at once, sending nothing", () => {
    const down = failureOf(outcomes[9]);
    // A down peer's error, for the shape every failure below must share.
    expect(down).toMatchObject({ name: "DependencyUnavailableError", unavailable: true, dependency: "blackboard", retryAfterSeconds: 5 });
    expect(down.message).toBe("blackboard is unavailable: /api/v1/entries: ECONNREFUSED");
    const shape = { name: down.name, unavailable: true, dependency: "blackboard", retryAfterSeconds: 5 };

    const wrongName = failureOf(outcomes[6]);
    expect(wrongName).toMatchObject(shape);
    expect(wrongName.message).toBe("blackboard is unavailable: /api/v1/entries: ERR_TLS_CERT_ALTNAME_INVALID");
    const untrusted = failureOf(outcomes[7]);
    expect(untrusted).toMatchObject(shape);
    expect(untrusted.message).toBe("blackboard is unavailable: /api/v1/entries: UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    const notTls = failureOf(outcomes[8]);
    expect(notTls).toMatchObject(shape);
    expect(notTls.message).toBe("blackboard is unavailable: /api/v1/entries: EPROTO");

    // Refused in the handshake, long before the call's own timeout.
    for (const failure of [wrongName, untrusted, notTls]) expect(failure.ms).toBeLessThan(FAILURE_TIMEOUT_MS / 4);
    // The request, token included, never reached a peer that was not verified.
    expect(misnamed.requests).toEqual([]);
    expect(stranger.requests).toEqual([]);
    expect(plain.requests).toEqual([]);
    expect(misnamed.connections).toEqual([]);
    expect(stranger.connections).toEqual([]);
  });

  it("does not trust the test CA without NODE_EXTRA_CA_CERTS: the trusted peer fails from this process", async () => {
    const client = createServiceClient(loadConfig("coordinator", { SERVICE_URL_BLACKBOARD: trusted.url, RATE_LIMIT_PER_MINUTE: "0" }), "blackboard");
    try {
      const before = trusted.requests.length;
      const error = await client.call("/api/v1/entries", { body: { n: 9 }, timeoutMs: FAILURE_TIMEOUT_MS }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(error).toMatchObject({ dependency: "blackboard", message: "blackboard is unavailable: /api/v1/entries: UNABLE_TO_VERIFY_LEAF_SIGNATURE" });
      expect(trusted.requests.length).toBe(before);
    } finally {
      client.close();
    }
  });
});
