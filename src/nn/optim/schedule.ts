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

/**
 * Cosine annealing from the base rate to `minLr` over `totalEpochs` (Loshchilov & Hutter 2017, no restarts).
 * With `holdEpochs` > 0 the base rate is held for that long and the cosine runs over the remaining epochs:
 * a pruning run keeps its full rate while masks still change and anneals only while it recovers.
 */
export function cosineLR(totalEpochs: number, minLr = 0, holdEpochs = 0): LRSchedule {
  if (!(totalEpochs > 0)) throw new ConfigError(`cosineLR: totalEpochs must be positive, got ${totalEpochs}`);
  if (!(holdEpochs >= 0 && holdEpochs < totalEpochs)) throw new ConfigError(`cosineLR: holdEpochs must be in [0, totalEpochs), got ${holdEpochs}`);
  return {
    lrAt: (epoch, baseLr) => {
      const t = Math.min(Math.max((epoch - holdEpochs) / (totalEpochs - holdEpochs), 0), 1);
      return minLr + 0.5 * (baseLr - minLr) * (1 + Math.cos(Math.PI * t));
    },
  };
}
