package bot

import (
	"testing"

	"github.com/go-telegram/bot/models"
)

func TestLargestPhoto(t *testing.T) {
	tests := []struct {
		name  string
		sizes []models.PhotoSize
		want  string
	}{
		{"none", nil, ""},
		{"ascending", []models.PhotoSize{{FileID: "s", Width: 90, Height: 68}, {FileID: "m", Width: 320, Height: 240}, {FileID: "l", Width: 1280, Height: 960}}, "l"},
		{"unordered", []models.PhotoSize{{FileID: "l", Width: 1280, Height: 960}, {FileID: "s", Width: 90, Height: 68}}, "l"},
		{"same area, larger file", []models.PhotoSize{{FileID: "a", Width: 10, Height: 10, FileSize: 5}, {FileID: "b", Width: 10, Height: 10, FileSize: 9}}, "b"},
	}
	for _, tc := range tests {
		if got := largestPhoto(tc.sizes); got != tc.want {
			t.Fatalf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
