CREATE TABLE "lifecycle"."client_tokens" (
	"tenant_id" text NOT NULL,
	"region" text NOT NULL,
	"token" text NOT NULL,
	"request_hash" text NOT NULL,
	"reservation_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "client_tokens_tenant_id_region_token_pk" PRIMARY KEY("tenant_id","region","token")
);
--> statement-breakpoint
ALTER TABLE "lifecycle"."api_keys" ADD COLUMN "aws_secret" text;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "instance_id" text GENERATED ALWAYS AS ('i-' || right(replace(id::text, '-', ''), 17)) STORED NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "reservation_id" text;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "image" text;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "availability_zone" text;--> statement-breakpoint
-- Servers made before the EC2 face: a reservation each, the first default image, zone a.
UPDATE "lifecycle"."servers" SET "reservation_id" = 'r-' || right(replace(id::text, '-', ''), 17),
  "image" = 'ami-0c1a7f8e2d3b4a5c6', "availability_zone" = region || 'a';--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ALTER COLUMN "reservation_id" SET NOT NULL,
  ALTER COLUMN "image" SET NOT NULL, ALTER COLUMN "availability_zone" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "architecture" text DEFAULT 'x86_64' NOT NULL;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "key_name" text;--> statement-breakpoint
ALTER TABLE "lifecycle"."servers" ADD COLUMN "client_token" text;--> statement-breakpoint
CREATE UNIQUE INDEX "servers_instance_id_key" ON "lifecycle"."servers" USING btree ("instance_id");--> statement-breakpoint
CREATE INDEX "servers_reservation_idx" ON "lifecycle"."servers" USING btree ("reservation_id");--> statement-breakpoint
CREATE INDEX "servers_zone_live_idx" ON "lifecycle"."servers" USING btree ("availability_zone") WHERE "lifecycle"."servers"."state" NOT IN ('terminated', 'error');