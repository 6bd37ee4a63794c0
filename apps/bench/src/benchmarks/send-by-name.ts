// `send-by-name`: calls by name through a warm name cache against calls to the location that
// name resolved to, on worker cores, in the same run: the same intended name, capability, dispatcher and
// user-space channel, so the ratio is what naming costs once the cache is warm (goal ≥ 0.9).
import type { WorkerFabric } from '@fos/microkernel';
import { boot, type Instance } from '@fos/system';
import type { Benchmark, BenchmarkSession } from '../harness.js';
import { defaultProcessesModule } from './messaging.js';

/** Settings of {@link sendByName}. */
export interface SendByNameSettings {
  readonly calls: number;
  readonly warmupCalls: number;
  readonly payloadBytes: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

export const sendByNameDefaults: SendByNameSettings = Object.freeze({
  calls: 10_000,
  warmupCalls: 1_000,
  payloadBytes: 32,
  rounds: 11,
  warmupRounds: 1,
});

/** The fleet name the clients call. */
export const sendByNameFleet = '/bench/echo';

/**
 * `send-by-name`: an echo fleet member (`/bench/echo/1` under `/bench/echo`) on worker core 1, the
 * name service on core 0, a client on core 2 making calls of `payloadBytes`, one in flight, by name;
 * baseline `send-to-location`: the same calls to the resolved location.
 */
export function sendByName(
  overrides: Partial<SendByNameSettings> = {},
  options: { readonly processesModule?: string | URL } = {},
): Benchmark {
  const settings = { ...sendByNameDefaults, ...overrides };
  return {
    name: 'send-by-name',
    unit: 'calls/s',
    baselineName: 'send-to-location',
    settings: { fabric: 'worker', cores: 3, name: sendByNameFleet, inFlight: 1, ...settings },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: () => openSession(settings, options.processesModule ?? defaultProcessesModule()),
  };
}

async function openSession(settings: SendByNameSettings, module: string | URL): Promise<BenchmarkSession> {
  const instance: Instance<WorkerFabric> = await boot({ fabric: 'worker', cores: 3 });
  try {
    const service = instance.nameService;
    if (service === undefined) throw new Error('boot started no name service');
    await instance.spawn({
      core: 1,
      module,
      entry: 'echoMember',
      name: 'echo-1',
      args: { name: `${sendByNameFleet}/1`, fleet: sendByNameFleet, capability: service.rootCapability },
    });
    const round = async (byName: boolean): Promise<number> => {
      const args = {
        name: sendByNameFleet,
        calls: settings.calls,
        warmupCalls: settings.warmupCalls,
        byName,
        payloadBytes: settings.payloadBytes,
      };
      const handle = await instance.spawn({
        core: 2,
        module,
        entry: 'sendByNameClient',
        name: byName ? 'by-name' : 'to-location',
        args,
      });
      return (handle.result as { perSecond: number }).perSecond;
    };
    return { measured: () => round(true), baseline: () => round(false), close: () => instance.shutdown() };
  } catch (error) {
    await instance.shutdown();
    throw error;
  }
}
