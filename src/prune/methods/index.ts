import type { PruningMethod } from '../method.ts';
import { dns } from './dns.ts';
import { dnsScheduled } from './dns-scheduled.ts';
import { gradual } from './gradual.ts';
import { iterative } from './iterative.ts';
import { l1 } from './l1.ts';
import { oneshot } from './oneshot.ts';
import { rigl } from './rigl.ts';
import { snip } from './snip.ts';
import { threshold } from './threshold.ts';
import { thresholdDynamic } from './threshold-dynamic.ts';
import { topk } from './topk.ts';

/**
 * The built-in pruning methods, in the order `--help` lists them. A new built-in method is one file in
 * this folder plus one entry here; a user method is one `registerPruningMethod` call.
 */
export const BUILTIN_METHODS: readonly PruningMethod<any>[] = [oneshot, iterative, gradual, snip, threshold, thresholdDynamic, topk, l1, dns, dnsScheduled, rigl];
