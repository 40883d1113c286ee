import { ConfigError } from '../../errors.ts';

/**
 * Learning-rate schedules: the learning rate as a function of training progress, measured in epochs
 * (fractional within an epoch, so a schedule can change the rate every step).
 */
export interface LRSchedule {
  lrAt(epoch: number, baseLr: number): number;
}

/** The same rate throughout. */
export const constantLR: LRSchedule = { lrAt: (_epoch, baseLr) => baseLr };

/** Multiplies the rate by `gamma` every `stepSize` epochs (torch StepLR). */
export function stepLR(stepSize: number, gamma = 0.1): LRSchedule {
  if (!(stepSize > 0)) throw new ConfigError(`stepLR: stepSize must be positive, got ${stepSize}`);
  if (!(gamma > 0)) throw new ConfigError(`stepLR: gamma must be positive, got ${gamma}`);
  return { lrAt: (epoch, baseLr) => baseLr * gamma ** Math.floor(epoch / stepSize) };
}

/** Cosine annealing from the base rate to `minLr` over `totalEpochs` (Loshchilov & Hutter 2017, no restarts). */
export function cosineLR(totalEpochs: number, minLr = 0): LRSchedule {
  if (!(totalEpochs > 0)) throw new ConfigError(`cosineLR: totalEpochs must be positive, got ${totalEpochs}`);
  return {
    lrAt: (epoch, baseLr) => {
      const t = Math.min(Math.max(epoch / totalEpochs, 0), 1);
      return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * t));
    },
  };
}
