-- Staff accounts, agents and the small commerce catalog behind the Agent API.
--
-- employees         staff who read the metrics (roles `employee` and `admin`); argon2 password hashes
-- signin_throttle   failed sign-in counting per account, in the database so it holds across replicas
-- agents            the AI agents that call /agent/v1; `agent_id` is what agent_usage_logs.agent_id holds
-- agent_api_keys    their API keys, stored as SHA-256 digests only (the plaintext is shown once)
-- merchants, products, orders, order_items
--                   the Agent API's data: agents search products and place orders at merchants

CREATE TABLE IF NOT EXISTS employees (
    employee_id   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         VARCHAR(320) NOT NULL,        -- stored lower-cased
    password_hash TEXT NOT NULL,                -- argon2id, PHC string format
    role          VARCHAR(20) NOT NULL CHECK (role IN ('employee', 'admin')),
    is_active     BOOLEAN NOT NULL DEFAULT true,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT employees_email_lower CHECK (email = lower(email))
);
CREATE UNIQUE INDEX IF NOT EXISTS employees_email_key ON employees (email);

-- One row per account key (a SHA-256 of the normalised email, so unknown emails are throttled exactly
-- like known ones and the table never reveals which accounts exist). Every attempt is counted before the
-- password is checked, in one atomic upsert, so concurrent guesses on several replicas cannot slip past
-- the limit; a successful sign-in deletes the row.
CREATE TABLE IF NOT EXISTS signin_throttle (
    account_key       CHAR(64) PRIMARY KEY,
    attempt_count     INTEGER NOT NULL,
    window_started_at TIMESTAMPTZ NOT NULL,
    locked_until      TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS signin_throttle_window_idx ON signin_throttle (window_started_at);

CREATE TABLE IF NOT EXISTS agents (
    agent_id   VARCHAR(50) PRIMARY KEY CHECK (agent_id ~ '^[A-Za-z0-9_.-]{1,50}$'),
    name       VARCHAR(200),
    is_active  BOOLEAN NOT NULL DEFAULT true,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Keys are 256-bit random strings, so a plain SHA-256 is as strong as a slow hash here and keeps the
-- per-request lookup to one index probe. An agent may hold several keys (rotation without downtime).
CREATE TABLE IF NOT EXISTS agent_api_keys (
    key_id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id   VARCHAR(50) NOT NULL REFERENCES agents (agent_id) ON DELETE CASCADE,
    key_digest CHAR(64) NOT NULL UNIQUE,        -- hex SHA-256 of the whole key
    key_prefix VARCHAR(16) NOT NULL,            -- first characters, to recognise a key in a list
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    revoked_at TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS agent_api_keys_agent_idx ON agent_api_keys (agent_id);

CREATE TABLE IF NOT EXISTS merchants (
    merchant_id VARCHAR(50) PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS products (
    product_id  VARCHAR(50) PRIMARY KEY,
    merchant_id VARCHAR(50) NOT NULL REFERENCES merchants (merchant_id),
    name        VARCHAR(200) NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    price       NUMERIC(10, 2) NOT NULL CHECK (price >= 0),
    currency    CHAR(3) NOT NULL DEFAULT 'USD',
    stock       INTEGER NOT NULL CHECK (stock >= 0),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS products_merchant_idx ON products (merchant_id, name);

CREATE TABLE IF NOT EXISTS orders (
    order_id        VARCHAR(50) PRIMARY KEY,
    agent_id        VARCHAR(50) NOT NULL REFERENCES agents (agent_id),
    merchant_id     VARCHAR(50) NOT NULL REFERENCES merchants (merchant_id),
    idempotency_key VARCHAR(100),
    request_digest  CHAR(64) NOT NULL,          -- of the order's content, to tell a retry from a reuse
    amount          NUMERIC(10, 2) NOT NULL CHECK (amount >= 0),
    currency        CHAR(3) NOT NULL DEFAULT 'USD',
    status          VARCHAR(20) NOT NULL DEFAULT 'created',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS orders_agent_idempotency_key
    ON orders (agent_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS orders_agent_created_idx ON orders (agent_id, created_at DESC);

CREATE TABLE IF NOT EXISTS order_items (
    order_id   VARCHAR(50) NOT NULL REFERENCES orders (order_id) ON DELETE CASCADE,
    product_id VARCHAR(50) NOT NULL REFERENCES products (product_id),
    quantity   INTEGER NOT NULL CHECK (quantity > 0),
    unit_price NUMERIC(10, 2) NOT NULL,
    PRIMARY KEY (order_id, product_id)
);

-- A small demo catalog so a development install's Agent API has something to search and sell. Called by
-- `make run` in development and by `make traffic`, never by a migration: a production database gets
-- no demo merchants. Idempotent: existing rows (and their stock) are left alone.
CREATE OR REPLACE FUNCTION seed_demo_catalog() RETURNS void LANGUAGE sql AS $$
    INSERT INTO merchants (merchant_id, name) VALUES
        ('acme_outdoor', 'Acme Outdoor Supply'),
        ('nordic_home', 'Nordic Home'),
        ('pixel_electronics', 'Pixel Electronics'),
        ('green_grocer', 'Green Grocer'),
        ('book_nook', 'The Book Nook')
    ON CONFLICT (merchant_id) DO NOTHING;

    INSERT INTO products (product_id, merchant_id, name, description, price, stock) VALUES
        ('acme_tent_2p', 'acme_outdoor', 'Two-person tent', 'Lightweight three-season tent', 249.00, 1000000),
        ('acme_sleeping_bag', 'acme_outdoor', 'Down sleeping bag', 'Comfort rating -5 C', 189.50, 1000000),
        ('acme_headlamp', 'acme_outdoor', 'LED headlamp', '400 lumen, rechargeable', 39.99, 1000000),
        ('acme_water_filter', 'acme_outdoor', 'Water filter', 'Squeeze filter, 0.1 micron', 34.95, 1000000),
        ('acme_trail_stove', 'acme_outdoor', 'Trail stove', 'Limited edition titanium stove', 129.00, 25),
        ('nordic_oak_table', 'nordic_home', 'Oak dining table', 'Solid oak, seats six', 899.00, 1000000),
        ('nordic_wool_throw', 'nordic_home', 'Wool throw', 'Merino wool blanket', 79.00, 1000000),
        ('nordic_desk_lamp', 'nordic_home', 'Desk lamp', 'Dimmable LED desk lamp', 64.50, 1000000),
        ('nordic_linen_set', 'nordic_home', 'Linen bedding set', 'Stonewashed linen, queen size', 149.00, 1000000),
        ('pixel_headphones', 'pixel_electronics', 'Noise-cancelling headphones', 'Over-ear, 30 h battery',
         299.99, 1000000),
        ('pixel_usb_c_cable', 'pixel_electronics', 'USB-C cable', '2 m, 100 W', 12.99, 1000000),
        ('pixel_keyboard', 'pixel_electronics', 'Mechanical keyboard', 'Hot-swappable switches', 119.00, 1000000),
        ('pixel_monitor_27', 'pixel_electronics', '27-inch monitor', '4K IPS display', 379.00, 1000000),
        ('pixel_desk_lamp', 'pixel_electronics', 'Smart desk lamp', 'App-controlled LED lamp', 49.00, 1000000),
        ('green_coffee_beans', 'green_grocer', 'Coffee beans', 'Single-origin, 1 kg', 24.00, 1000000),
        ('green_olive_oil', 'green_grocer', 'Olive oil', 'Extra virgin, 1 l', 15.75, 1000000),
        ('green_tea_box', 'green_grocer', 'Green tea', '50 organic tea bags', 8.40, 1000000),
        ('green_honey', 'green_grocer', 'Wildflower honey', 'Raw honey, 500 g', 11.20, 1000000),
        ('book_sql_guide', 'book_nook', 'The SQL Guide', 'Paperback, 480 pages', 42.00, 1000000),
        ('book_python_tricks', 'book_nook', 'Python Tricks', 'Paperback, 300 pages', 29.90, 1000000),
        ('book_field_guide', 'book_nook', 'Field guide to birds', 'Hardcover, illustrated', 35.00, 1000000),
        ('book_cookbook', 'book_nook', 'Weeknight cookbook', 'Hardcover, 120 recipes', 27.50, 1000000)
    ON CONFLICT (product_id) DO NOTHING;
$$;
