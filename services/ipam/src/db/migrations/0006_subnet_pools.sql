-- A pool is keyed by an id: a region's pool keeps its region as its id (and in its region
-- column), a subnet's pool is the subnet's id, the public pool "public".
ALTER TABLE "ipam"."pools" RENAME COLUMN "region" TO "id";--> statement-breakpoint
ALTER TABLE "ipam"."pools" ADD COLUMN "region" text;--> statement-breakpoint
UPDATE "ipam"."pools" SET "region" = "id";--> statement-breakpoint
ALTER TABLE "ipam"."pools" ADD COLUMN "kind" text DEFAULT 'region' NOT NULL;--> statement-breakpoint
ALTER TABLE "ipam"."pools" ADD COLUMN "first_offset" integer DEFAULT 2 NOT NULL;--> statement-breakpoint
ALTER TABLE "ipam"."addresses" RENAME COLUMN "region" TO "pool_id";--> statement-breakpoint
ALTER TABLE "ipam"."addresses" RENAME CONSTRAINT "addresses_region_address_pk" TO "addresses_pool_id_address_pk";
