CREATE TABLE "billing"."volumes" (
	"volume_id" uuid PRIMARY KEY NOT NULL,
	"ec2_id" text NOT NULL,
	"tenant_id" text NOT NULL,
	"region" text NOT NULL,
	"volume_type" text NOT NULL,
	"size_gb" integer NOT NULL,
	"rate" numeric(24, 9) NOT NULL,
	"open_since" timestamp (3) with time zone,
	"closed_at" timestamp (3) with time zone,
	"accrued_until" timestamp (3) with time zone NOT NULL,
	"billed_ms" bigint DEFAULT 0 NOT NULL,
	"amount" numeric(24, 9) DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "billing"."ledger" ALTER COLUMN "server_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "billing"."ledger" ADD COLUMN "volume_id" uuid;--> statement-breakpoint
CREATE UNIQUE INDEX "volumes_ec2_id_idx" ON "billing"."volumes" USING btree ("ec2_id");--> statement-breakpoint
CREATE INDEX "volumes_open_idx" ON "billing"."volumes" USING btree ("volume_id") WHERE "billing"."volumes"."open_since" IS NOT NULL AND "billing"."volumes"."closed_at" IS NULL;--> statement-breakpoint
CREATE INDEX "volumes_tenant_idx" ON "billing"."volumes" USING btree ("tenant_id");--> statement-breakpoint
CREATE INDEX "ledger_volume_idx" ON "billing"."ledger" USING btree ("volume_id","id") WHERE "billing"."ledger"."volume_id" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "billing"."ledger" ADD CONSTRAINT "ledger_one_owner" CHECK (num_nonnulls("billing"."ledger"."server_id", "billing"."ledger"."volume_id") = 1);