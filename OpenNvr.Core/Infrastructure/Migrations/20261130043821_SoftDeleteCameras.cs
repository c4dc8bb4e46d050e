using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace OpenNvr.Core.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class SoftDeleteCameras : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_events_cameras_camera_id",
                table: "events");

            migrationBuilder.DropForeignKey(
                name: "fk_recordings_cameras_camera_id",
                table: "recordings");

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "deleted_at",
                table: "cameras",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddForeignKey(
                name: "fk_events_cameras_camera_id",
                table: "events",
                column: "camera_id",
                principalTable: "cameras",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);

            migrationBuilder.AddForeignKey(
                name: "fk_recordings_cameras_camera_id",
                table: "recordings",
                column: "camera_id",
                principalTable: "cameras",
                principalColumn: "id",
                onDelete: ReferentialAction.Restrict);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_events_cameras_camera_id",
                table: "events");

            migrationBuilder.DropForeignKey(
                name: "fk_recordings_cameras_camera_id",
                table: "recordings");

            migrationBuilder.DropColumn(
                name: "deleted_at",
                table: "cameras");

            migrationBuilder.AddForeignKey(
                name: "fk_events_cameras_camera_id",
                table: "events",
                column: "camera_id",
                principalTable: "cameras",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);

            migrationBuilder.AddForeignKey(
                name: "fk_recordings_cameras_camera_id",
                table: "recordings",
                column: "camera_id",
                principalTable: "cameras",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }
    }
}
