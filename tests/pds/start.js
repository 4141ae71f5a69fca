// A throwaway PLC directory (in memory) or a Bluesky PDS, for civicbot's tests.
//   node start.js plc   (env PLC_PORT)                       prints "READY plc"
//   node start.js pds   (env PDS_PORT, PLC_URL, PDS_DATA_DIRECTORY)   prints "READY pds"
// The PDS keeps its secrets in its data directory, so a restart serves the same accounts.
'use strict'
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

async function plc() {
  const { PlcServer, Database } = require('@did-plc/server')
  const server = PlcServer.create({ db: Database.mock(), port: parseInt(process.env.PLC_PORT, 10) })
  await server.start()
  return () => server.destroy()
}

async function secret(dir, name, make) {
  const file = path.join(dir, name)
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8')
  const value = await make()
  fs.writeFileSync(file, value, { mode: 0o600 })
  return value
}

async function pds() {
  const dir = process.env.PDS_DATA_DIRECTORY
  if (!dir) throw new Error('PDS_DATA_DIRECTORY is required')
  fs.mkdirSync(dir, { recursive: true })
  const { Secp256k1Keypair } = require('@atproto/crypto')
  const rotation = await secret(dir, 'rotation.hex', async () => {
    const key = await Secp256k1Keypair.create({ exportable: true })
    return Buffer.from(await key.export()).toString('hex')
  })
  const jwt = await secret(dir, 'jwt.secret', async () => crypto.randomBytes(16).toString('hex'))
  Object.assign(process.env, {
    PDS_HOSTNAME: 'localhost',
    PDS_DEV_MODE: 'true',
    PDS_DID_PLC_URL: process.env.PLC_URL,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dir, 'blobs'),
    PDS_JWT_SECRET: jwt,
    PDS_ADMIN_PASSWORD: process.env.PDS_ADMIN_PASSWORD || 'admin-pass',
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: rotation,
    PDS_INVITE_REQUIRED: 'false',
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_CRAWLERS: '',
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    LOG_ENABLED: 'false',
  })
  const lib = await import('@atproto/pds')
  const env = lib.readEnv()
  const server = await lib.PDS.create(lib.envToCfg(env), lib.envToSecrets(env))
  await server.start()
  return () => server.destroy()
}

async function main() {
  const role = process.argv[2]
  const stop = role === 'plc' ? await plc() : role === 'pds' ? await pds() : null
  if (!stop) throw new Error('usage: node start.js plc|pds')
  process.stdout.write(`READY ${role}\n`)
  const quit = async () => {
    try { await stop() } catch (e) {}
    process.exit(0)
  }
  process.on('SIGTERM', quit)
  process.on('SIGINT', quit)
}

main().catch((err) => {
  process.stderr.write(`${process.argv[2]} failed to start: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
