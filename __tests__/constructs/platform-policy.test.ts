import { Container } from "@cdktf/provider-docker/lib/container";
import { DockerProvider } from "@cdktf/provider-docker/lib/provider";
import { Volume } from "@cdktf/provider-docker/lib/volume";
import { Aspects, TerraformStack, Testing } from "cdktf";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PlatformPolicy } from "../../constructs/policy/platform-policy";
import { CONSTITUTIONAL_HASH } from "../../services/catalog";

const hashLabel = [{ label: "constitutional_hash", value: CONSTITUTIONAL_HASH }];

/** Synthesizes one stack holding what `build` adds; returns the error the synth fails with, if any. */
function synthError(build: (stack: TerraformStack) => void): string | undefined {
  const outdir = mkdtempSync(join(tmpdir(), "acgs-policy-"));
  try {
    const app = Testing.app({ outdir });
    const stack = new TerraformStack(app, "policy-test");
    new DockerProvider(stack, "docker");
    build(stack);
    Aspects.of(stack).add(new PlatformPolicy());
    app.synth();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe("PlatformPolicy", () => {
  it("accepts a labelled non-root container with a memory limit", () => {
    expect(
      synthError((stack) => {
        new Container(stack, "ok", { name: "ok", image: "x", user: "1000:1000", memory: 128, labels: hashLabel });
      }),
    ).toBeUndefined();
  });

  it("fails the synth on a container running as root, naming the resource", () => {
    const error = synthError((stack) => {
      new Container(stack, "rooted", { name: "rooted", image: "x", user: "0:0", memory: 128, labels: hashLabel });
    });
    expect(error).toMatch(/docker_container\.rooted \(policy-test\/rooted\) must run as a non-root user/);
  });

  it("fails the synth on a container with no user or no memory limit", () => {
    const error = synthError((stack) => {
      new Container(stack, "bare", { name: "bare", image: "x", labels: hashLabel });
    });
    expect(error).toMatch(/docker_container\.bare .*must run as a non-root user \(user is "unset"\)/);
    expect(error).toMatch(/docker_container\.bare .*must have a memory limit/);
  });

  it("fails the synth on a resource that takes labels but lacks the hash label", () => {
    const error = synthError((stack) => {
      new Volume(stack, "data", { name: "data", labels: [{ label: "constitutional_hash", value: "0000000000000000" }] });
    });
    expect(error).toMatch(/docker_volume\.data .*must carry the label constitutional_hash=cdd01ef066bc6cf2/);
  });

  it("fails the synth on a secret written in plain text", () => {
    const error = synthError((stack) => {
      new Container(stack, "leaky", {
        name: "leaky",
        image: "x",
        user: "1000:1000",
        memory: 128,
        labels: hashLabel,
        env: ["POSTGRES_PASSWORD=hunter2", "PORT=8000"],
      });
    });
    expect(error).toMatch(/docker_container\.leaky .*must not hold the secret POSTGRES_PASSWORD in plain text/);
    expect(error).not.toMatch(/PORT/);
  });
});
