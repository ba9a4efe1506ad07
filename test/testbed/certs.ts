// Key material the control plane needs and Node can make: the service-account signing key pair and the
// static admin token (Node's crypto cannot mint X.509 client certs; the apiserver self-signs its serving cert).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SERVICE_ACCOUNT_KEY_BITS = 2048;

export interface ControlPlaneSecrets {
  serviceAccountPublicKeyFile: string;
  serviceAccountPrivateKeyFile: string;
  tokenAuthFile: string;
  adminToken: string;
}

export function writeControlPlaneSecrets(dir: string): ControlPlaneSecrets {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: SERVICE_ACCOUNT_KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const serviceAccountPublicKeyFile = join(dir, 'sa.pub');
  const serviceAccountPrivateKeyFile = join(dir, 'sa.key');
  writeFileSync(serviceAccountPublicKeyFile, publicKey, { mode: 0o600 });
  writeFileSync(serviceAccountPrivateKeyFile, privateKey, { mode: 0o600 });
  const adminToken = randomBytes(24).toString('hex');
  const tokenAuthFile = join(dir, 'tokens.csv');
  // token,user,uid,"group1,group2"
  writeFileSync(tokenAuthFile, `${adminToken},okgsq-testbed-admin,okgsq-testbed-admin,"system:masters"\n`, { mode: 0o600 });
  return { serviceAccountPublicKeyFile, serviceAccountPrivateKeyFile, tokenAuthFile, adminToken };
}
