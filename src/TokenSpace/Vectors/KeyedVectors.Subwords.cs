namespace TokenSpace.Vectors;

// fastText sets: a word outside the vocabulary still has a vector, built from its character n-grams.
public sealed partial class KeyedVectors
{
    SubwordVectors? subwords;

    /// <summary>
    /// The character n-gram vectors of a fastText <c>.bin</c> model, or null: with them, <see cref="GetVector"/>,
    /// <see cref="Similarity"/> and the <see cref="MostSimilar(string, int, int?, bool)"/> family accept words outside
    /// the vocabulary (as gensim's <c>FastTextKeyedVectors</c> do); <see cref="Contains"/> still answers for the vocabulary.
    /// </summary>
    public SubwordVectors? Subwords => subwords;

    /// <summary>Attaches <paramref name="model"/> (disposed with these vectors) and returns this set.</summary>
    internal KeyedVectors WithSubwords(SubwordVectors model)
    {
        subwords = model;
        return this;
    }

    /// <summary>Takes the n-gram vectors away from this set (which then no longer disposes them), to hand them to a copy.</summary>
    internal SubwordVectors? DetachSubwords()
    {
        var model = subwords;
        subwords = null;
        return model;
    }

    /// <summary>The vector of a key outside the vocabulary, from its n-grams, raw or unit-norm.</summary>
    /// <exception cref="KeyNotFoundException">There are no n-gram vectors (the message suggests close spellings).</exception>
    float[] OutOfVocabulary(string key, bool normalized)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        var vector = subwords?.WordVector(key) ?? throw KeySuggestions.NotFound(key, keys);
        if (normalized) Normalize(vector);
        return vector;
    }
}
