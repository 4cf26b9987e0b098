import { z } from 'zod';
import { durationField, sourceBase, tagTarget } from '../config-fields.ts';

/** OPC UA message security modes a source can ask for. */
export const OPCUA_SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
/** Security policies a Sign / SignAndEncrypt connection can use (node-opcua's names). */
export const OPCUA_SECURITY_POLICIES = ['Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss', 'Basic256', 'Basic128Rsa15'] as const;

// The OPC UA string form of a node id (Part 6, 5.3.1.10): an optional namespace index or URI,
// then numeric, string, GUID or opaque (base64) identifier. Checked here rather than with
// node-opcua so that loading a config does not load the OPC UA stack (seconds of start-up).
const NODE_ID = /^(?:(?:ns=\d{1,5}|nsu=[^;]+);)?(?:i=\d{1,10}|s=.+|g=[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|b=[A-Za-z0-9+/]+={0,2})$/s;

const nodeIdField = z.string().superRefine((text, ctx) => {
  if (!NODE_ID.test(text)) {
    ctx.addIssue({ code: 'custom', message: `expected an OPC UA node id such as ns=2;s=Press1.Temperature or ns=3;i=1001 (got ${JSON.stringify(text)})` });
  }
});

const securitySchema = z
  .object({
    mode: z.enum(OPCUA_SECURITY_MODES, { error: `expected one of ${OPCUA_SECURITY_MODES.join(', ')}` }).default('None'),
    policy: z.enum(OPCUA_SECURITY_POLICIES, { error: `expected one of ${OPCUA_SECURITY_POLICIES.join(', ')}` }).optional(),
    /** PEM certificate of this client (made under the source's state folder when not given). */
    certificate: z.string().min(1).optional(),
    /** PEM private key of `certificate`. */
    privateKey: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((sec, ctx) => {
    if ((sec.certificate === undefined) !== (sec.privateKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: [sec.certificate === undefined ? 'certificate' : 'privateKey'], message: 'expected certificate and privateKey together (the key of that certificate)' });
    }
    if (sec.mode === 'None' && sec.policy !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['policy'], message: 'a policy needs mode Sign or SignAndEncrypt (mode None sends in clear)' });
    }
  });

/**
 * One `type: opcua` entry of the gateway config (durations parsed to ms, defaults filled in).
 *
 * @example
 * import { opcuaSchema } from 'millwright';
 * const press = opcuaSchema.parse({ name: 'press', type: 'opcua', endpoint: 'opc.tcp://press-plc:4840',
 *   samplingInterval: '100ms', tags: [{ node: 'ns=2;s=Press1.Temperature', asset: 'press1', signal: 'temperature', unit: 'degC' }] });
 * press.security.mode; // 'None'
 */
export const opcuaSchema = z
  .object({
    ...sourceBase,
    type: z.literal('opcua'),
    endpoint: z.string().regex(/^opc\.tcp:\/\/[^/\s]+/, 'expected an endpoint URL such as opc.tcp://press-plc:4840'),
    samplingInterval: durationField.default(1000),
    security: securitySchema.default({ mode: 'None' }),
    tags: z.array(z.object({ node: nodeIdField, ...tagTarget }).strict()).min(1, 'expected at least one tag'),
  })
  .strict();

export type OpcuaConfig = z.output<typeof opcuaSchema>;
export type OpcuaTag = OpcuaConfig['tags'][number];
