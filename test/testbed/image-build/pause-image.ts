// The pod sandbox ("pause") image, built as Kubernetes builds it: build/pause/linux/pause.c from the
// k8s.io/kubernetes module of KUBE_VERSION, compiled static with the flags of build/pause/Makefile, alone
// in an empty image running as 65535:65535, named registry.k8s.io/pause:<the Makefile's TAG> (3.10.1 for
// v1.34.2: the tag kubeadm of that release configures; the kubelet itself no longer names one, the
// runtime's sandbox_image does).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FilesImageSpec } from './files-image.js';
import { runCaptured, runLogged } from './run-logged.js';

export const PAUSE_IMAGE_REPOSITORY = 'registry.k8s.io/pause';

export interface PauseBinary {
  spec: FilesImageSpec;
  /** Remove when the image is built. */
  scratchDir: string;
}

/** Compiles the pause binary (~1 s; deterministic, so the image's cache key follows pause.c). */
export async function compilePause(kubeVersion: string, logFile: string): Promise<PauseBinary> {
  const scratchDir = mkdtempSync(join(tmpdir(), 'okgsq-pause-'));
  try {
    // Outside any module, so the repository's go.mod (if any) plays no part.
    const out = await runCaptured('go', ['mod', 'download', '-json', `k8s.io/kubernetes@${kubeVersion}`], {
      logFile,
      cwd: scratchDir,
      env: { ...process.env, GOFLAGS: '-mod=mod' },
    });
    const moduleDir = (JSON.parse(out) as { Dir?: string }).Dir;
    if (!moduleDir) throw new Error(`go mod download k8s.io/kubernetes@${kubeVersion} reported no directory`);
    const makefile = readFileSync(join(moduleDir, 'build', 'pause', 'Makefile'), 'utf8');
    const tag = /^TAG \?= (\S+)$/m.exec(makefile)?.[1];
    if (!tag) throw new Error(`${join(moduleDir, 'build', 'pause', 'Makefile')}: no "TAG ?=" line`);
    const binary = join(scratchDir, 'pause');
    // The Makefile's CFLAGS (-Os -Wall -Werror -static, VERSION), stripped as the release binary is.
    await runLogged('gcc', ['-Os', '-Wall', '-Werror', '-static', '-s', `-DVERSION=v${tag}`, '-o', binary, join(moduleDir, 'build', 'pause', 'linux', 'pause.c')], { logFile });
    return {
      scratchDir,
      spec: { ref: `${PAUSE_IMAGE_REPOSITORY}:${tag}`, files: [{ from: binary, to: '/pause', mode: 0o755 }], user: '65535:65535', entrypoint: ['/pause'] },
    };
  } catch (err) {
    rmSync(scratchDir, { recursive: true, force: true });
    throw err;
  }
}
