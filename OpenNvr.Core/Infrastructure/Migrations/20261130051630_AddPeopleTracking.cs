using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace OpenNvr.Core.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class AddPeopleTracking : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "event_type",
                table: "events",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "track_id",
                table: "events",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "counting_lines",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    camera_id = table.Column<int>(type: "integer", nullable: false),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    points = table.Column<string>(type: "jsonb", nullable: false),
                    event_types = table.Column<string[]>(type: "text[]", nullable: false),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_counting_lines", x => x.id);
                    table.ForeignKey(
                        name: "fk_counting_lines_cameras_camera_id",
                        column: x => x.camera_id,
                        principalTable: "cameras",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "occupancy",
                columns: table => new
                {
                    camera_id = table.Column<int>(type: "integer", nullable: false),
                    start_unix = table.Column<long>(type: "bigint", nullable: false),
                    seconds = table.Column<short>(type: "smallint", nullable: false),
                    samples = table.Column<int>(type: "integer", nullable: false),
                    avg = table.Column<float>(type: "real", nullable: false),
                    max = table.Column<short>(type: "smallint", nullable: false),
                    zones = table.Column<string>(type: "jsonb", nullable: true),
                    lines = table.Column<string>(type: "jsonb", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_occupancy", x => new { x.camera_id, x.start_unix });
                    table.ForeignKey(
                        name: "fk_occupancy_cameras_camera_id",
                        column: x => x.camera_id,
                        principalTable: "cameras",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "zones",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    camera_id = table.Column<int>(type: "integer", nullable: false),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    points = table.Column<string>(type: "jsonb", nullable: false),
                    event_types = table.Column<string[]>(type: "text[]", nullable: false),
                    loitering_s = table.Column<double>(type: "double precision", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_zones", x => x.id);
                    table.ForeignKey(
                        name: "fk_zones_cameras_camera_id",
                        column: x => x.camera_id,
                        principalTable: "cameras",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_events_camera_id_track_id_executed_at",
                table: "events",
                columns: new[] { "camera_id", "track_id", "executed_at" });

            migrationBuilder.CreateIndex(
                name: "ix_events_event_type_executed_at_id",
                table: "events",
                columns: new[] { "event_type", "executed_at", "id" },
                descending: new[] { false, true, true });

            migrationBuilder.CreateIndex(
                name: "ix_counting_lines_camera_id",
                table: "counting_lines",
                column: "camera_id");

            migrationBuilder.CreateIndex(
                name: "ix_zones_camera_id",
                table: "zones",
                column: "camera_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "counting_lines");

            migrationBuilder.DropTable(
                name: "occupancy");

            migrationBuilder.DropTable(
                name: "zones");

            migrationBuilder.DropIndex(
                name: "ix_events_camera_id_track_id_executed_at",
                table: "events");

            migrationBuilder.DropIndex(
                name: "ix_events_event_type_executed_at_id",
                table: "events");

            migrationBuilder.DropColumn(
                name: "event_type",
                table: "events");

            migrationBuilder.DropColumn(
                name: "track_id",
                table: "events");
        }
    }
}
