CREATE TABLE "lifecycle"."api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"tenant_id" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "lifecycle"."tenants" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"max_servers" integer,
	"max_vcpus" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "tenant_id" text DEFAULT 'default' NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."api_keys" ADD CONSTRAINT "api_keys_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "lifecycle"."tenants"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_hash_key" ON "lifecycle"."api_keys" USING btree ("key_hash");--> statement-breakpoint
CREATE INDEX "api_keys_tenant_idx" ON "lifecycle"."api_keys" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "servers_tenant_idx" ON "lifecycle"."servers" USING btree ("tenant_id","id");--> statement-breakpoint
-- The tenant of every server from before tenancy, and of keyless requests when AUTH_REQUIRED=false.
INSERT INTO "lifecycle"."tenants" ("id", "name") VALUES ('default', 'default') ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- Idempotency keys are per tenant: stored as <tenant id>:<key> (tenant ids hold no colon).
UPDATE "lifecycle"."idempotency_keys" SET "key" = 'default:' || "key";
