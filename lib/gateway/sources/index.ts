import type { SourceType } from './registry.ts';
import { filesSourceType } from './files.ts';
import { modbusSource } from './modbus.ts';
import { opcuaSource } from './opcua.ts';
import { windowPollType } from '../window-poll/source.ts';
import { mqttSourceType } from './mqtt.ts';
import { sparkplugSourceType } from './sparkplug.ts';

/**
 * Every source type the gateway knows. Each protocol module exports its {@link SourceType} and is
 * listed here (one import, one entry); the config validator builds its discriminated union from
 * this list, so a new protocol needs no change anywhere else.
 */
export const SOURCE_TYPES: SourceType[] = [
  filesSourceType,
  modbusSource,
  opcuaSource,
  windowPollType as unknown as SourceType,
  mqttSourceType as unknown as SourceType,
  sparkplugSourceType as unknown as SourceType,
];

export type { SourceType } from './registry.ts';
