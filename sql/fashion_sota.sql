-- The new layout ("fashion_sota"): one denormalised products table holding
-- validated products, their brand and their three 512-dim embeddings.
-- {{schema}}, {{products}} are replaced by fashionctl with the quoted
-- identifiers from etc/fashion.cfg.  Idempotent.
CREATE SCHEMA IF NOT EXISTS {{schema}};

CREATE TABLE IF NOT EXISTS {{schema}}.{{products}} (
    product_id            integer PRIMARY KEY,
    gender                text NOT NULL,
    master_category       text NOT NULL,
    sub_category          text NOT NULL,
    article_type          text NOT NULL,
    base_color            text,
    season                text,
    year                  integer,
    usage                 text,
    product_display_name  text NOT NULL,
    brand                 text,
    price                 numeric(10,2) NOT NULL CHECK (price > 0),
    image_path            text NOT NULL,
    image_width           integer NOT NULL,
    image_height          integer NOT NULL,
    image_embedding       real[] CHECK (image_embedding IS NULL OR cardinality(image_embedding) = 512),
    text_embedding        real[] CHECK (text_embedding IS NULL OR cardinality(text_embedding) = 512),
    embedding             real[] CHECK (embedding IS NULL OR cardinality(embedding) = 512)
);

CREATE INDEX IF NOT EXISTS {{products}}_gender_idx ON {{schema}}.{{products}} (gender);
CREATE INDEX IF NOT EXISTS {{products}}_master_category_idx ON {{schema}}.{{products}} (master_category);
CREATE INDEX IF NOT EXISTS {{products}}_sub_category_idx ON {{schema}}.{{products}} (sub_category);
CREATE INDEX IF NOT EXISTS {{products}}_article_type_idx ON {{schema}}.{{products}} (article_type);
CREATE INDEX IF NOT EXISTS {{products}}_base_color_idx ON {{schema}}.{{products}} (base_color);
CREATE INDEX IF NOT EXISTS {{products}}_season_idx ON {{schema}}.{{products}} (season);
CREATE INDEX IF NOT EXISTS {{products}}_usage_idx ON {{schema}}.{{products}} (usage);
CREATE INDEX IF NOT EXISTS {{products}}_brand_idx ON {{schema}}.{{products}} (brand);
CREATE INDEX IF NOT EXISTS {{products}}_year_idx ON {{schema}}.{{products}} (year, product_id);
CREATE INDEX IF NOT EXISTS {{products}}_price_idx ON {{schema}}.{{products}} (price, product_id);
CREATE INDEX IF NOT EXISTS {{products}}_name_idx ON {{schema}}.{{products}} (product_display_name, product_id);

