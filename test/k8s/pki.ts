/**
 * The throwaway control plane's keys and certificates, made with the openssl CLI in `dir`: a CA, the API
 * server's serving certificate (127.0.0.1 / localhost), the snapshot-metadata sidecar's, one client certificate in system:masters that every
 * component uses, and the service-account signing key pair.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface Pki {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  saKey: string;
  saPub: string;
  /** The external-snapshot-metadata sidecar's serving certificate (127.0.0.1 and the chart's Service name). */
  snapshotMetadataCert: string;
  snapshotMetadataKey: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await exec('openssl', args, { cwd, timeout: 60_000 });
  } catch (e) {
    throw new Error(
      `openssl ${args.slice(0, 2).join(' ')} failed (is openssl on PATH?): ${(e as Error & { stderr?: string }).stderr ?? (e as Error).message}`,
      { cause: e },
    );
  }
}

/** Signs `name`.csr-to-be with the CA; `ext` is an openssl extension section body. */
async function issue(dir: string, name: string, subject: string, ext: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
  await openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
}

export async function makePki(dir: string): Promise<Pki> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ca.key'], dir);
  await openssl(
    [
      'req',
      '-x509',
      '-new',
      '-key',
      'ca.key',
      '-subj',
      '/CN=plinth-e2e-ca',
      '-days',
      '2',
      '-sha256',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
      '-out',
      'ca.crt',
    ],
    dir,
  );
  await issue(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc\n',
  );
  await issue(
    dir,
    'admin',
    '/O=system:masters/CN=plinth-e2e-admin',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n',
  );
  await issue(
    dir,
    'snapshot-metadata',
    '/CN=plinth-snapshot-metadata',
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:plinth-snapshot-metadata.kube-system\n',
  );
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  const p = (f: string): string => join(dir, f);
  return {
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('apiserver.crt'),
    serverKey: p('apiserver.key'),
    adminCert: p('admin.crt'),
    adminKey: p('admin.key'),
    saKey: p('sa.key'),
    saPub: p('sa.pub'),
    snapshotMetadataCert: p('snapshot-metadata.crt'),
    snapshotMetadataKey: p('snapshot-metadata.key'),
  };
}

/** A kubeconfig for the admin client certificate. */
export async function writeKubeconfig(file: string, server: string, pki: Pki): Promise<void> {
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: plinth-e2e',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${pki.caCert}`,
    'users:',
    '- name: admin',
    '  user:',
    `    client-certificate: ${pki.adminCert}`,
    `    client-key: ${pki.adminKey}`,
    'contexts:',
    '- name: plinth-e2e',
    '  context: {cluster: plinth-e2e, user: admin}',
    'current-context: plinth-e2e',
    '',
  ].join('\n');
  await writeFile(file, text, { mode: 0o600 });
}

/** A kubeconfig for a ServiceAccount's bound token (TokenRequest): the identity the chart gives that component. */
export async function writeTokenKubeconfig(file: string, server: string, pki: Pki, user: string, token: string): Promise<void> {
  const text = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: plinth-e2e',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority: ${pki.caCert}`,
    'users:',
    `- name: ${user}`,
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: plinth-e2e',
    `  context: {cluster: plinth-e2e, user: ${user}}`,
    'current-context: plinth-e2e',
    '',
  ].join('\n');
  await writeFile(file, text, { mode: 0o600 });
}
