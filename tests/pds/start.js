// Starts a throwaway PLC directory (in-memory) and a Bluesky PDS for civicbot's tests.
// Usage: node start.js  (env: PDS_PORT, PLC_PORT, PDS_DATA_DIRECTORY). Prints "READY <json>" when up.
'use strict'
const crypto = require('node:crypto')
const path = require('node:path')

async function main() {
  const plcPort = parseInt(process.env.PLC_PORT || '2582', 10)
  const pdsPort = parseInt(process.env.PDS_PORT || '2583', 10)
  const dataDir = process.env.PDS_DATA_DIRECTORY
  if (!dataDir) throw new Error('PDS_DATA_DIRECTORY is required')

  const plc = require('@did-plc/server')
  const plcServer = plc.PlcServer.create({ db: plc.Database.mock(), port: plcPort })
  await plcServer.start()

  const { Secp256k1Keypair } = require('@atproto/crypto')
  const rotation = await Secp256k1Keypair.create({ exportable: true })
  const rotationHex = Buffer.from(await rotation.export()).toString('hex')

  Object.assign(process.env, {
    PDS_PORT: String(pdsPort),
    PDS_HOSTNAME: 'localhost',
    PDS_DEV_MODE: 'true',
    PDS_DID_PLC_URL: `http://localhost:${plcPort}`,
    PDS_BLOBSTORE_DISK_LOCATION: path.join(dataDir, 'blobs'),
    PDS_JWT_SECRET: crypto.randomBytes(16).toString('hex'),
    PDS_ADMIN_PASSWORD: process.env.PDS_ADMIN_PASSWORD || 'admin-pass',
    PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: rotationHex,
    PDS_INVITE_REQUIRED: 'false',
    PDS_RATE_LIMITS_ENABLED: 'false',
    PDS_CRAWLERS: '',
    PDS_SERVICE_HANDLE_DOMAINS: '.test',
    LOG_ENABLED: 'false',
  })
  const pds = await import('@atproto/pds')
  const env = pds.readEnv()
  const cfg = pds.envToCfg(env)
  const secrets = pds.envToSecrets(env)
  const server = await pds.PDS.create(cfg, secrets)
  await server.start()
  process.stdout.write(`READY ${JSON.stringify({ pds: `http://localhost:${pdsPort}`, plc: `http://localhost:${plcPort}` })}\n`)
  const stop = async () => {
    try { await server.destroy() } catch (e) {}
    try { await plcServer.destroy() } catch (e) {}
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((err) => {
  process.stderr.write(`PDS failed to start: ${err && err.stack ? err.stack : err}\n`)
  process.exit(1)
})
