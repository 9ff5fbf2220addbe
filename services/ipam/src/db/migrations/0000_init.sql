CREATE SCHEMA IF NOT EXISTS "ipam";
--> statement-breakpoint
CREATE TABLE "ipam"."addresses" (
	"region" text NOT NULL,
	"address" "inet" NOT NULL,
	"server_id" uuid,
	"allocated_at" timestamp with time zone,
	"released_at" timestamp with time zone,
	CONSTRAINT "addresses_region_address_pk" PRIMARY KEY("region","address")
);
--> statement-breakpoint
CREATE TABLE "ipam"."pools" (
	"region" text PRIMARY KEY NOT NULL,
	"cidr" text NOT NULL,
	"size" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ipam"."addresses" ADD CONSTRAINT "addresses_region_pools_region_fk" FOREIGN KEY ("region") REFERENCES "ipam"."pools"("region") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "addresses_server_id_key" ON "ipam"."addresses" USING btree ("server_id");--> statement-breakpoint
CREATE INDEX "addresses_free_idx" ON "ipam"."addresses" USING btree ("region","address") WHERE "ipam"."addresses"."server_id" IS NULL;