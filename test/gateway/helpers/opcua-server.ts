import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DataType, MessageSecurityMode, OPCUACertificateManager, OPCUAServer, SecurityPolicy, StatusCodes, Variant, type StatusCode, type UAVariable } from 'node-opcua';

/** Options of the in-process test server. */
export interface TestOpcuaServerOptions {
  port: number;
  /** Folder for every certificate manager (never the user's home). */
  pkiDir: string;
  /** Node ids (`s=...` in the server's own namespace, ns=1) of Double variables to create. */
  variables: string[];
  /** Secure modes to offer besides None (the test server accepts any client certificate). */
  secure?: boolean;
}

/**
 * A node-opcua server on 127.0.0.1 with Double variables a test can set with a status and a
 * source time stamp. Start takes 2-4 s (certificate creation the first time a pkiDir is used).
 */
export class TestOpcuaServer {
  readonly server: OPCUAServer;
  readonly variables = new Map<string, UAVariable>();

  private constructor(server: OPCUAServer) {
    this.server = server;
  }

  static async start(options: TestOpcuaServerOptions): Promise<TestOpcuaServer> {
    const serverPki = join(options.pkiDir, 'server');
    const userPki = join(options.pkiDir, 'user');
    await mkdir(serverPki, { recursive: true });
    await mkdir(userPki, { recursive: true });
    const serverCertificateManager = new OPCUACertificateManager({ rootFolder: serverPki, automaticallyAcceptUnknownCertificate: true });
    const userCertificateManager = new OPCUACertificateManager({ rootFolder: userPki, automaticallyAcceptUnknownCertificate: true });
    const server = new OPCUAServer({
      hostname: '127.0.0.1',
      host: '127.0.0.1',
      port: options.port,
      securityModes: options.secure ? [MessageSecurityMode.None, MessageSecurityMode.Sign, MessageSecurityMode.SignAndEncrypt] : [MessageSecurityMode.None],
      securityPolicies: options.secure ? [SecurityPolicy.None, SecurityPolicy.Basic256Sha256] : [SecurityPolicy.None],
      serverCertificateManager,
      userCertificateManager,
      allowAnonymous: true,
      serverCapabilities: { maxSessions: 50 },
    });
    await server.initialize();
    const addressSpace = server.engine.addressSpace;
    if (addressSpace === null) throw new Error('no address space');
    const namespace = addressSpace.getOwnNamespace();
    const device = namespace.addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: 'Plant' });
    const made = new TestOpcuaServer(server);
    for (const id of options.variables) {
      const variable = namespace.addVariable({
        componentOf: device,
        browseName: id,
        nodeId: `s=${id}`,
        dataType: 'Double',
        minimumSamplingInterval: 10,
        value: { dataType: DataType.Double, value: 0 },
      });
      made.variables.set(id, variable);
    }
    await server.start();
    return made;
  }

  /** The server's own namespace index (the `ns=` of the test variables). */
  get namespaceIndex(): number {
    return this.server.engine.addressSpace?.getOwnNamespace().index ?? 1;
  }

  /** Sets a variable as a device would: value, status and the time the device measured it. */
  set(id: string, value: number, status: StatusCode = StatusCodes.Good, sourceTimestamp = new Date()): void {
    const variable = this.variables.get(id);
    if (variable === undefined) throw new Error(`no variable ${id}`);
    variable.setValueFromSource(new Variant({ dataType: DataType.Double, value }), status, sourceTimestamp);
  }

  async stop(): Promise<void> {
    await this.server.shutdown(0);
  }
}
