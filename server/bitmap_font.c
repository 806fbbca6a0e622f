#include "bitmap_font.h"

#include <string.h>

struct glyph {
	char c;
	const char *rows[BITMAP_FONT_HEIGHT]; /* '#' = ink, one string per row */
};

static const struct glyph glyphs[] = {
	{ '0', { " ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### " } },
	{ '1', { "  #  ", " ##  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### " } },
	{ '2', { " ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####" } },
	{ '3', { "#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### " } },
	{ '4', { "   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # " } },
	{ '5', { "#####", "#    ", "#### ", "    #", "    #", "#   #", " ### " } },
	{ '6', { "  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### " } },
	{ '7', { "#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   " } },
	{ '8', { " ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### " } },
	{ '9', { " ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  " } },
	{ ':', { "     ", "  #  ", "  #  ", "     ", "  #  ", "  #  ", "     " } },
	{ '.', { "     ", "     ", "     ", "     ", "     ", " ##  ", " ##  " } },
	{ '-', { "     ", "     ", "     ", "#####", "     ", "     ", "     " } },
	{ '(', { "   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # " } },
	{ ')', { " #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   " } },
	{ '/', { "    #", "    #", "   # ", "  #  ", " #   ", "#    ", "#    " } },
	{ ' ', { "     ", "     ", "     ", "     ", "     ", "     ", "     " } },
	{ 'A', { " ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #" } },
	{ 'B', { "#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### " } },
	{ 'C', { " ### ", "#   #", "#    ", "#    ", "#    ", "#   #", " ### " } },
	{ 'D', { "#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### " } },
	{ 'E', { "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####" } },
	{ 'F', { "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    " } },
	{ 'G', { " ### ", "#   #", "#    ", "# ###", "#   #", "#   #", " ####" } },
	{ 'H', { "#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #" } },
	{ 'I', { " ### ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", " ### " } },
	{ 'J', { "  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  " } },
	{ 'K', { "#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #" } },
	{ 'L', { "#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####" } },
	{ 'M', { "#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #" } },
	{ 'N', { "#   #", "#   #", "##  #", "# # #", "#  ##", "#   #", "#   #" } },
	{ 'O', { " ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### " } },
	{ 'P', { "#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    " } },
	{ 'Q', { " ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #" } },
	{ 'R', { "#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #" } },
	{ 'S', { " ####", "#    ", "#    ", " ### ", "    #", "    #", "#### " } },
	{ 'T', { "#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  " } },
	{ 'U', { "#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### " } },
	{ 'V', { "#   #", "#   #", "#   #", "#   #", "#   #", " # # ", "  #  " } },
	{ 'W', { "#   #", "#   #", "#   #", "# # #", "# # #", "# # #", " # # " } },
	{ 'X', { "#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #" } },
	{ 'Y', { "#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  " } },
	{ 'Z', { "#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####" } },
};

/* Drawn for characters the font lacks, so a missing glyph is visible. */
static const struct glyph unknown_glyph = {
	'?', { "#####", "#   #", "#   #", "#   #", "#   #", "#   #", "#####" }
};

static const struct glyph *find_glyph(char c)
{
	if (c >= 'a' && c <= 'z')
		c = (char)(c - 'a' + 'A');
	for (size_t i = 0; i < sizeof glyphs / sizeof glyphs[0]; i++)
		if (glyphs[i].c == c)
			return &glyphs[i];
	return &unknown_glyph;
}

int bitmap_font_pixel(char c, unsigned col, unsigned row)
{
	if (col >= BITMAP_FONT_WIDTH || row >= BITMAP_FONT_HEIGHT)
		return 0;
	return find_glyph(c)->rows[row][col] == '#';
}

static unsigned clamp_scale(unsigned scale)
{
	if (scale < 1)
		return 1;
	return scale > BITMAP_FONT_MAX_SCALE ? BITMAP_FONT_MAX_SCALE : scale;
}

unsigned bitmap_font_text_width(const char *text, unsigned scale)
{
	return (unsigned)strlen(text) * BITMAP_FONT_ADVANCE * clamp_scale(scale);
}

void bitmap_font_draw(uint32_t *pixels, unsigned width, unsigned height, size_t stride, int x, int y,
                      const char *text, unsigned scale, uint32_t color)
{
	scale = clamp_scale(scale);
	for (; *text; text++, x += BITMAP_FONT_ADVANCE * (int)scale) {
		const struct glyph *g = find_glyph(*text);
		for (unsigned row = 0; row < BITMAP_FONT_HEIGHT * scale; row++) {
			long py = (long)y + row;
			if (py < 0 || py >= (long)height)
				continue;
			for (unsigned col = 0; col < BITMAP_FONT_WIDTH * scale; col++) {
				long px = (long)x + col;
				if (px >= 0 && px < (long)width && g->rows[row / scale][col / scale] == '#')
					pixels[(size_t)py * stride + (size_t)px] = color;
			}
		}
	}
}
