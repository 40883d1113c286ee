/**
 * Bundles an entry point of the package the way an application's bundler would (esbuild: ES module, browser
 * platform, minified, tree-shaken), for the bundle-size budget and the browser example's test. esbuild is a
 * development tool here (it comes with vitest and tsx), never a dependency of the package.
 */
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';

/** A bundled entry: its code, its sizes, and which source files went into it. */
export interface Bundle {
  readonly code: Uint8Array;
  readonly bytes: number;
  /** Gzip at level 9, what a server sends. */
  readonly gzipBytes: number;
  /** Source files (paths relative to the repository) that contributed code, with their minified bytes. */
  readonly inputs: ReadonlyMap<string, number>;
}

/** Bundles `entry` (a path relative to the repository root). `sourcemap` appends an inline source map. */
export async function bundleEntry(entry: string, options: { sourcemap?: boolean } = {}): Promise<Bundle> {
  const result = await build({
    entryPoints: [entry],
    absWorkingDir: new URL('../../', import.meta.url).pathname,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    metafile: true,
    logLevel: 'silent',
    ...(options.sourcemap === true ? { sourcemap: 'inline' as const } : {}),
  });
  const output = result.outputFiles[0]!;
  const meta = Object.values(result.metafile.outputs)[0]!;
  const inputs = new Map(Object.entries(meta.inputs).filter(([, v]) => v.bytesInOutput > 0).map(([path, v]) => [path, v.bytesInOutput] as const));
  return { code: output.contents, bytes: output.contents.length, gzipBytes: gzipSync(output.contents, { level: 9 }).length, inputs };
}
