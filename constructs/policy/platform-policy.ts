// Checks that must hold for every resource of every stack. A violation fails the synth with an
// error naming the resource (cdktf turns error annotations into a failed synth).
import { Annotations, type IAspect, TerraformResource, Token } from "cdktf";
import type { IConstruct } from "constructs";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";

type Attributes = Record<string, any>;

/** How to read the labels of each resource type that takes labels. */
const LABEL_READERS: Record<string, (a: Attributes) => Record<string, unknown> | undefined> = {
  docker_container: (a) => labelList(a.labels),
  docker_network: (a) => labelList(a.labels),
  docker_volume: (a) => labelList(a.labels),
};

function labelList(list: unknown): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  return Object.fromEntries(list.map((l: { label: string; value: unknown }) => [l.label, l.value]));
}

/** Environment variables whose value must be a reference to a generated or sensitive value. */
const SECRET_ENV = /(PASSWORD|SECRET|TOKEN|_KEY|DATABASE_URL|REDIS_URL|DATA_SOURCE_NAME|REDISCLI_AUTH)$/;

function attributesOf(resource: TerraformResource): Attributes {
  const byType = resource.toTerraform().resource as Record<string, Record<string, Attributes>>;
  return Object.values(Object.values(byType)[0])[0];
}

function isRoot(user: unknown): boolean {
  if (typeof user !== "string" || user.trim() === "") return true;
  const name = user.split(":")[0];
  return name === "0" || name === "root";
}

export class PlatformPolicy implements IAspect {
  visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource)) return;
    const type = node.terraformResourceType;
    const attributes = attributesOf(node);
    const problems: string[] = [];

    const readLabels = type === "docker_image" ? (a: Attributes) => a.build?.label : LABEL_READERS[type];
    // A docker_image pulled from a registry takes no labels; one we build does.
    if (readLabels && (type !== "docker_image" || attributes.build)) {
      const labels = readLabels(attributes);
      if (labels?.constitutional_hash !== CONSTITUTIONAL_HASH) {
        problems.push(`must carry the label constitutional_hash=${CONSTITUTIONAL_HASH}`);
      }
    }

    if (type === "docker_container") {
      if (isRoot(attributes.user)) problems.push(`must run as a non-root user (user is ${JSON.stringify(attributes.user ?? "unset")})`);
      if (!(typeof attributes.memory === "number" && attributes.memory > 0)) problems.push("must have a memory limit");
      for (const entry of (attributes.env ?? []) as string[]) {
        const [key, ...rest] = entry.split("=");
        if (SECRET_ENV.test(key) && !Token.isUnresolved(rest.join("="))) {
          problems.push(`must not hold the secret ${key} in plain text (use a generated password or a sensitive variable)`);
        }
      }
    }

    for (const problem of problems) {
      Annotations.of(node).addError(`${type}.${node.friendlyUniqueId} (${node.node.path}) ${problem}`);
    }
  }
}
