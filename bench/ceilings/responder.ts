// Ceiling worker: answers NATS requests on `ceiling.echo` (bare round trip) and `ceiling.insert`
// (an INSERT … RETURNING into Postgres, the one-hop pipeline's work).
import { connect } from "@nats-io/transport-node";
import pg from "pg";

const [natsUrl, databaseUrl] = process.argv.slice(2);
const nc = await connect({ servers: natsUrl });
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query(
  "CREATE TABLE IF NOT EXISTS ceiling_orders (id bigserial PRIMARY KEY, body jsonb NOT NULL, at timestamptz DEFAULT now())",
);
nc.subscribe("ceiling.echo", {
  callback: (_err, msg) => {
    msg.respond(msg.data);
  },
});
nc.subscribe("ceiling.insert", {
  callback: (_err, msg) => {
    pool
      .query("INSERT INTO ceiling_orders (body) VALUES ($1) RETURNING id, at", [msg.string()])
      .then((r) => msg.respond(JSON.stringify(r.rows[0])))
      .catch(() => msg.respond(JSON.stringify({ error: true })));
  },
});
await nc.flush();
console.log("ready");
