import { TerraformVariable } from "cdktf";
import { Construct } from "constructs";
import type { Environment } from "../../environments";
import { IMAGES } from "../../environments/images";
import { alertmanagerYaml, receiverSecrets } from "../../monitoring/alertmanager-config";
import { httpHealthCheck } from "../platform/http-health-check";
import type { Platform, WorkloadAddress } from "../platform/workload";

export interface AlertmanagerServerProps {
  readonly platform: Platform;
  readonly env: Environment;
}

/** Alertmanager with the environment's routes; receiver URLs and keys come from sensitive variables. */
export class AlertmanagerServer extends Construct {
  static readonly PORT = 9093;
  readonly address: WorkloadAddress;
  readonly configYaml: string;
  readonly secretVariables: readonly TerraformVariable[];

  constructor(scope: Construct, id: string, { platform, env }: AlertmanagerServerProps) {
    super(scope, id);
    this.configYaml = alertmanagerYaml(env);
    const secrets = receiverSecrets(env).map(({ variable, path }) => {
      const input = new TerraformVariable(this, variable, {
        type: "string",
        sensitive: true,
        description: `Secret of an Alertmanager receiver of ${env.name} (set TF_VAR_${variable}).`,
      });
      input.overrideLogicalId(variable);
      return { input, path };
    });
    this.secretVariables = secrets.map((s) => s.input);
    this.address = platform.deploy({
      component: "alertmanager",
      image: { kind: "registry", ref: IMAGES.alertmanager },
      port: AlertmanagerServer.PORT,
      publishedPort: env.monitoring.alertmanagerPort,
      replicas: 1,
      command: ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"],
      env: {},
      healthCheck: httpHealthCheck(AlertmanagerServer.PORT, "/-/ready", 10),
      memoryMb: 256,
      cpus: 0.25,
      user: "65534:65534",
      scratchPaths: ["/tmp"],
      volumes: [{ name: "alertmanager-data", mountPath: "/alertmanager" }],
      // A local webhook receiver in dev listens on the workstation itself.
      hostAliases: ["host.docker.internal"],
      files: [
        { path: "/etc/alertmanager/alertmanager.yml", content: this.configYaml },
        ...secrets.map(({ input, path }) => ({ path, content: input.stringValue, secret: true })),
      ],
    });
  }
}
