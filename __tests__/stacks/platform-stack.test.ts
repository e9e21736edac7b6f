import { parse } from "yaml";
import { ENVIRONMENTS } from "../../environments";
import { CONSTITUTIONAL_HASH, SERVICES } from "../../services/catalog";
import { containersByName, envOf, labelsOf, shippedFiles, synthesizeStack } from "./synthesized-stack";

describe.each(Object.values(ENVIRONMENTS))("PlatformStack acgs-$name", (env) => {
  const { json, config } = synthesizeStack(env);
  const containers = containersByName(config);
  const files = (name: string) => shippedFiles(config, containers[name]);
  const serviceContainers = (name: string) =>
    Object.values<any>(containers).filter((c) => labelsOf(c)["acgs.component"] === name);

  it("matches the snapshot (read the assertions beside it to judge a change)", () => {
    expect(json).toMatchSnapshot();
  });

  it("runs every catalog service with its replicas, each on the environment's port", () => {
    for (const s of SERVICES) {
      const settings = env.services[s.name];
      const replicas = serviceContainers(s.name);
      expect(replicas).toHaveLength(settings.replicas);
      for (const c of replicas) {
        expect(envOf(c).PORT).toBe(String(settings.port));
        expect(c.networks_advanced[0].aliases).toEqual([`acgs-${s.name}-${env.name}`]);
      }
      // Exactly one replica publishes the port on the host's loopback.
      const published = replicas.flatMap((c) => c.ports ?? []);
      expect(published).toEqual([{ internal: settings.port, external: settings.port, ip: "127.0.0.1" }]);
    }
  });

  it("builds each service image from services/Dockerfile with the service as build argument", () => {
    const images = Object.values<any>(config.resource.docker_image).filter((i) => i.build);
    expect(images.map((i) => i.build.build_args.SERVICE).sort()).toEqual(SERVICES.map((s) => s.name).sort());
    for (const image of images) {
      expect(image.build).toMatchObject({ context: "../../..", dockerfile: "services/Dockerfile", target: "runtime" });
      expect(image.triggers.source_hash).toMatch(/^[0-9a-z-]{64}$/);
      expect(image.name).toBe(`acgs/${image.build.build_args.SERVICE}:${image.triggers.source_hash.slice(0, 12)}`);
    }
  });

  it("configures each service for the environment's strictness and its dependencies", () => {
    for (const s of SERVICES) {
      const vars = envOf(serviceContainers(s.name)[0]);
      expect(vars.ACGS_ENVIRONMENT).toBe(env.name);
      expect(vars.HASH_STRICT).toBe(String(env.hashStrict));
      expect(vars.AUTH_REQUIRED).toBe(String(env.authRequired));
      expect("DATABASE_URL" in vars).toBe(s.postgres);
      expect("REDIS_URL" in vars).toBe(s.redis);
      expect(vars.AUTH_JWKS_URL).toBe(`http://acgs-auth-${env.name}:${env.services.auth.port}/.well-known/jwks.json`);
      for (const peer of s.calls) {
        const peerPort = env.services[peer].port;
        expect(vars[`SERVICE_URL_${peer.toUpperCase().replace(/-/g, "_")}`]).toBe(`http://acgs-${peer}-${env.name}:${peerPort}`);
      }
    }
  });

  it("keeps PostgreSQL, Redis, Prometheus, Alertmanager and Grafana data on named volumes", () => {
    const volumes = Object.values<any>(config.resource.docker_volume).map((v) => v.name).sort();
    expect(volumes).toEqual(
      ["alertmanager-data", "grafana-data", "postgres-data", "prometheus-data", "redis-data"].map((v) => `acgs-${v}-${env.name}`),
    );
    const pg = containers[`acgs-postgres-${env.name}`];
    expect(pg.volumes).toEqual([{ container_path: "/var/lib/postgresql/data", volume_name: expect.stringContaining("docker_volume.") }]);
    expect(pg.ports).toEqual([{ internal: 5432, external: env.postgres.port, ip: "127.0.0.1" }]);
    expect(containers[`acgs-redis-${env.name}`].ports).toEqual([{ internal: 6379, external: env.redis.port, ip: "127.0.0.1" }]);
  });

  it("gives every service and data container a health check", () => {
    for (const s of SERVICES) {
      for (const c of serviceContainers(s.name)) {
        expect(c.healthcheck.test).toEqual(["CMD", "node", "/app/healthcheck.mjs"]);
      }
    }
    expect(containers[`acgs-postgres-${env.name}`].healthcheck.test).toContain("pg_isready");
    expect(containers[`acgs-redis-${env.name}`].healthcheck.test).toContain("redis-cli");
  });

  it("runs every container as non-root, read-only, with a memory limit and no capabilities", () => {
    for (const c of Object.values<any>(containers)) {
      expect(c.user).toMatch(/^[1-9]\d*:\d+$/);
      expect(c.memory).toBeGreaterThan(0);
      expect(c.read_only).toBe(true);
      expect(c.capabilities).toEqual({ drop: ["ALL"] });
    }
  });

  it("labels every container, network, volume and built image with the constitutional hash", () => {
    for (const type of ["docker_container", "docker_network", "docker_volume"]) {
      for (const resource of Object.values<any>(config.resource[type])) {
        expect(labelsOf(resource).constitutional_hash).toBe(CONSTITUTIONAL_HASH);
      }
    }
    for (const image of Object.values<any>(config.resource.docker_image).filter((i) => i.build)) {
      expect(image.build.label.constitutional_hash).toBe(CONSTITUTIONAL_HASH);
    }
  });

  it("generates every password with Terraform and passes it by reference", () => {
    expect(Object.keys(config.resource.random_password)).toHaveLength(3);
    const pg = envOf(containers[`acgs-postgres-${env.name}`]);
    expect(pg.POSTGRES_PASSWORD).toMatch(/^\$\{random_password\.[\w-]+\.result\}$/);
    const grafana = envOf(containers[`acgs-grafana-${env.name}`]);
    expect(grafana.GF_SECURITY_ADMIN_PASSWORD).toMatch(/^\$\{random_password\.[\w-]+\.result\}$/);
    expect(config.output.grafana_admin_password.sensitive).toBe(true);
  });

  it("ships a prometheus.yml that scrapes every service replica and exporter", () => {
    const upload = files(`acgs-prometheus-${env.name}`).find((u) => u.file === "/etc/prometheus/prometheus.yml")!;
    const prometheus = parse(upload.content);
    const jobs = Object.fromEntries(prometheus.scrape_configs.map((j: any) => [j.job_name, j.static_configs[0].targets]));
    for (const s of SERVICES) {
      expect(jobs[s.name]).toHaveLength(env.services[s.name].replicas);
      expect(jobs[s.name][0]).toMatch(new RegExp(`^acgs-${s.name}-${env.name}(-1)?:${env.services[s.name].port}$`));
    }
    expect(Object.keys(jobs)).toEqual(
      expect.arrayContaining(["prometheus", "alertmanager", "node-exporter", "postgres-exporter", "redis-exporter"]),
    );
    expect(prometheus.global.external_labels).toEqual({ environment: env.name, constitutional_hash: CONSTITUTIONAL_HASH });
  });

  it("ships the rule files beside prometheus.yml and the five dashboards into Grafana's provisioning", () => {
    const prometheus = files(`acgs-prometheus-${env.name}`).map((u) => u.file);
    expect(prometheus).toEqual(
      expect.arrayContaining(["acgs-alerts.yml", "acgs-recording.yml", "acgs-slo.yml"].map((f) => `/etc/prometheus/rules/${f}`)),
    );
    const config = parse(files(`acgs-prometheus-${env.name}`).find((u) => u.file.endsWith("prometheus.yml"))!.content);
    // Relative to prometheus.yml, so the same file also works in a rendered directory.
    expect(config.rule_files).toEqual(["rules/*.yml"]);
    const grafana = files(`acgs-grafana-${env.name}`).map((u) => u.file).filter((f: string) => f.startsWith("/etc/grafana/dashboards/"));
    expect(grafana.sort()).toEqual(
      ["acgs-compliance", "acgs-infrastructure", "acgs-overview", "acgs-performance", "acgs-slo"].map((d) => `/etc/grafana/dashboards/${d}.json`),
    );
  });

  it("routes Alertmanager to the environment's receivers, reading secrets from sensitive variables", () => {
    const am = files(`acgs-alertmanager-${env.name}`);
    const alertmanager = parse(am.find((u) => u.file === "/etc/alertmanager/alertmanager.yml")!.content);
    const receivers = new Set(alertmanager.receivers.map((r: any) => r.name));
    expect(receivers.has(alertmanager.route.receiver)).toBe(true);
    for (const route of alertmanager.route.routes) expect(receivers.has(route.receiver)).toBe(true);
    const secretFiles = am.filter((u) => u.file.startsWith("/etc/alertmanager/secrets/"));
    expect(secretFiles.length).toBe(env.alerting.receivers.filter((r) => r.kind === "chat" || r.kind === "pager").length);
    for (const secretFile of secretFiles) {
      const variable = secretFile.file.split("/").pop()!;
      expect(secretFile.content).toBe(`\${var.${variable}}`);
      expect(config.variable[variable].sensitive).toBe(true);
      expect(JSON.stringify(config.resource.local_sensitive_file)).toContain(`"content":"\${var.${variable}}"`);
    }
  });

  it("provisions Grafana with the Prometheus data source", () => {
    const datasources = parse(files(`acgs-grafana-${env.name}`).find((u) => u.file.endsWith("datasources/acgs.yml"))!.content);
    expect(datasources.datasources[0]).toMatchObject({ type: "prometheus", url: `http://acgs-prometheus-${env.name}:9090` });
  });
});

describe("state backends", () => {
  it("keeps dev's state in a local file at a relative path", () => {
    const { config } = synthesizeStack(ENVIRONMENTS.dev);
    expect(config.terraform.backend).toEqual({ local: { path: "terraform.acgs-dev.tfstate" } });
  });

  it.each(["staging", "production"] as const)("leaves %s's bucket to -backend-config (no code change to move it)", (name) => {
    const { config } = synthesizeStack(ENVIRONMENTS[name]);
    expect(config.terraform.backend).toEqual({ s3: { encrypt: true, key: `acgs/${name}/terraform.tfstate` } });
  });
});
