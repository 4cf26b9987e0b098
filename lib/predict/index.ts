/**
 * Scheduled predictions and results back to the plant: `runPredictions` runs a model every slot
 * over the last window of the store and writes the `predictions` table (exactly once per slot,
 * caught up after downtime); `WriteBack` sends predictions and alarm states to MQTT (JSON or
 * Sparkplug B) and OPC UA with a model version, a quality code and a heartbeat, holding the last
 * good value when the model fails or its input is stale.
 *
 * @example
 * import { runPredictions, WriteBack, MqttWriteBack } from 'millwright';
 * const wb = new WriteBack({ sinks: [new MqttWriteBack({ url: 'mqtt://127.0.0.1:1883', topic: 'millwright/plant-a' })], maxInputAge: 3 * 3600_000 });
 * await runPredictions({ group: 'press-energy', store: '.millwright/store', site: 'plant-a', every: '2h', window: '6h', horizon: '2h',
 *   onSlot: (r) => wb.updateFromSlot(r) });
 *
 * @packageDocumentation
 */
export { runPredictions, runSlot, type PredictionScheduleOptions, type SlotResult } from './run-predictions.ts';
export { openPredictSource, currentPredictSource, type ModelSpec, type PredictSource, type ModelChange } from './model-source.ts';
export { SlotLedger, LEDGER_KEEP, type LedgerRecord, type SlotEntry, type SlotStatus } from './ledger.ts';
export { dueSlots, latestSlot, nextSlot, checkSchedule, type SlotSchedule } from './slots.ts';
export { defaultFeatureQuery, buildDefaultInputs, buildQueryInputs, fillQuery, targetTimes, type InputWindow, type SlotInputs } from './inputs.ts';
export { WriteBack, type WriteBackMessage, type WriteBackSink, type WriteBackUpdate, type WriteBackOptions } from './write-back.ts';
export { MqttWriteBack, sparkplugQuality, type MqttWriteBackOptions } from './mqtt-write-back.ts';
export { OpcuaWriteBack, type OpcuaWriteBackOptions, type OpcuaTagNodes } from './opcua-write-back.ts';
