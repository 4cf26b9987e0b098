/**
 * The window-poll device protocol: a device that answers "give me what you hold" and keeps only
 * its last few minutes. Codec, client source and a simulator.
 *
 * @packageDocumentation
 */
export { encodeFrame, FrameReader, WP_TYPE, WP_TAG_STATUS, WP_HEADER_BYTES, WP_MAX_PAYLOAD, type WpFrame, type WpInfo, type WpReadResponse, type WpReading, type WpTagData } from './codec.ts';
export { WindowPollClient } from './client.ts';
export { WindowPollSimulator, type SimulatorOptions, type SimTag, type ServedRead } from './simulator.ts';
export { WindowPollSource, windowPollSchema, windowPollType, type WindowPollConfig } from './source.ts';
