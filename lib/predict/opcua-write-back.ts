import { mkdir } from 'node:fs/promises';
import type * as OpcuaClientModule from 'node-opcua-client';
import type * as CertificateManagerModule from 'node-opcua-certificate-manager';
import type { ClientSession, OPCUAClient } from 'node-opcua-client';
import { MillwrightError } from '../errors/index.ts';
import type { WriteBackMessage, WriteBackSink } from './write-back.ts';

/** The OPC UA variables one tag is written to. */
export interface OpcuaTagNodes {
  /** The set-point / prediction variable. */
  value: string;
  /** Optional variables for the quality code, the model version and the heartbeat counter. */
  quality?: string;
  modelVersion?: string;
  heartbeat?: string;
}

/** Options of {@link OpcuaWriteBack}. */
export interface OpcuaWriteBackOptions {
  /** `opc.tcp://host:port/path`. */
  endpoint: string;
  /** Tag name (as {@link WriteBack} names it) -> node ids (`ns=1;s=Press1.EnergySetpoint`). Tags not listed are not written. */
  nodes: Record<string, OpcuaTagNodes>;
  /** Folder of the client's certificate manager (its own certificate, trusted servers); never the user's home. */
  pkiDir: string;
  /** Per-call timeout (ms). Default 10 000. */
  timeoutMs?: number;
}

type Stack = typeof OpcuaClientModule;
let stack: Promise<[Stack, typeof CertificateManagerModule]> | undefined;
// The OPC UA stack takes seconds to load: only when a write-back to OPC UA is configured.
const loadStack = () => (stack ??= Promise.all([import('node-opcua-client'), import('node-opcua-certificate-manager')]));

/**
 * Writes each tag's value (and, when configured, its quality code, model version and heartbeat) to
 * variables of an OPC UA server: the "model sets the parameter" case. Values are converted to
 * each variable's DataType (read once per variable). A lost connection is reopened on the next send.
 *
 * @example
 * import { OpcuaWriteBack } from 'millwright';
 * const sink = new OpcuaWriteBack({ endpoint: 'opc.tcp://plc:4840', pkiDir: '/var/lib/millwright/pki',
 *   nodes: { 'press1/expected': { value: 'ns=1;s=Press1.EnergySetpoint', quality: 'ns=1;s=Press1.EnergyQuality' } } });
 */
export class OpcuaWriteBack implements WriteBackSink {
  readonly name: string;
  private client: OPCUAClient | undefined;
  private session: ClientSession | undefined;
  private readonly types = new Map<string, number>();

  constructor(private readonly o: OpcuaWriteBackOptions) {
    if (!/^opc\.tcp:\/\//.test(o.endpoint)) throw new MillwrightError('BAD_INPUT', `OPC UA endpoint ${JSON.stringify(o.endpoint)} must start with opc.tcp://`);
    if (Object.keys(o.nodes).length === 0) throw new MillwrightError('BAD_INPUT', 'OPC UA write-back needs at least one tag in nodes');
    this.name = `opcua ${o.endpoint}`;
  }

  private async open(): Promise<ClientSession> {
    if (this.session) return this.session;
    const [opcua, { OPCUACertificateManager }] = await loadStack();
    await mkdir(this.o.pkiDir, { recursive: true });
    const clientCertificateManager = new OPCUACertificateManager({ rootFolder: this.o.pkiDir, automaticallyAcceptUnknownCertificate: false });
    await clientCertificateManager.initialize();
    const client = opcua.OPCUAClient.create({
      applicationName: 'millwright-write-back',
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 200 },
      securityMode: opcua.MessageSecurityMode.None,
      securityPolicy: opcua.SecurityPolicy.None,
      clientCertificateManager,
      transportTimeout: this.o.timeoutMs ?? 10_000,
      defaultTransactionTimeout: this.o.timeoutMs ?? 10_000,
    });
    const drop = () => {
      this.session = undefined;
    };
    client.on('connection_lost', drop);
    client.on('close', drop);
    try {
      await client.connect(this.o.endpoint);
      this.session = await client.createSession();
    } catch (err) {
      await client.disconnect().catch(() => undefined);
      throw new MillwrightError('UNAVAILABLE', `OPC UA write-back cannot connect to ${this.o.endpoint}: ${(err as Error).message}`, { cause: err });
    }
    this.client = client;
    return this.session;
  }

  private async dataType(session: ClientSession, opcua: Stack, nodeId: string): Promise<number> {
    const known = this.types.get(nodeId);
    if (known !== undefined) return known;
    const dv = await session.read({ nodeId, attributeId: opcua.AttributeIds.DataType });
    if (!dv.statusCode.isGood()) throw new MillwrightError('NOT_FOUND', `OPC UA node ${nodeId} on ${this.o.endpoint}: ${dv.statusCode.name}`);
    const id = Number((dv.value.value as { value: number }).value);
    this.types.set(nodeId, id);
    return id;
  }

  async send(messages: WriteBackMessage[]): Promise<void> {
    const session = await this.open();
    const [opcua] = await loadStack();
    const writes: { nodeId: string; value: number | string }[] = [];
    for (const m of messages) {
      const n = this.o.nodes[m.name];
      if (!n) continue;
      if (m.value !== null) writes.push({ nodeId: n.value, value: m.value });
      if (n.quality) writes.push({ nodeId: n.quality, value: m.quality });
      if (n.modelVersion) writes.push({ nodeId: n.modelVersion, value: m.modelVersion });
      if (n.heartbeat) writes.push({ nodeId: n.heartbeat, value: m.heartbeat });
    }
    if (writes.length === 0) return;
    const nodes = [];
    for (const w of writes) {
      const dataType = await this.dataType(session, opcua, w.nodeId);
      const value = dataType === opcua.DataType.String ? String(w.value) : dataType === opcua.DataType.Boolean ? Boolean(w.value) : Number(w.value);
      nodes.push({ nodeId: w.nodeId, attributeId: opcua.AttributeIds.Value, value: { value: new opcua.Variant({ dataType, value }) } });
    }
    let codes;
    try {
      codes = await session.write(nodes);
    } catch (err) {
      this.session = undefined;
      throw new MillwrightError('UNAVAILABLE', `OPC UA write to ${this.o.endpoint} failed: ${(err as Error).message}`, { cause: err });
    }
    const bad = codes.map((c, i) => [c, writes[i]!.nodeId] as const).filter(([c]) => !c.isGood());
    if (bad.length > 0) throw new MillwrightError('CONFLICT', `OPC UA server ${this.o.endpoint} refused ${bad.map(([c, id]) => `${id} (${c.name})`).join(', ')}`);
  }

  async close(): Promise<void> {
    const { client, session } = this;
    this.client = undefined;
    this.session = undefined;
    await session?.close().catch(() => undefined);
    if (client) await Promise.race([client.disconnect(), new Promise((r) => setTimeout(r, 3000).unref())]);
  }
}
